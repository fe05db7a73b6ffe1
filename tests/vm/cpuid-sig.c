/* cpuid-sig: what a guest's CPU says about a hypervisor, for the fixture
 * trees (CONTRACT.md "Fixtures": the `cpuid` file).  Built statically on the
 * host by tests/vm/test_vm_linux.py and run inside the guest.  Prints
 *   hypervisor_bit=0|1
 *   max_leaf=0x........           (EAX of leaf 0x40000000)
 *   signature=HEX                 (EBX ECX EDX of leaf 0x40000000, 24 hex digits)
 */
#include <cpuid.h>
#include <stdio.h>

int main(void)
{
	unsigned int a, b, c, d;
	unsigned char sig[12];

	__cpuid(1, a, b, c, d);
	printf("hypervisor_bit=%u\n", (c >> 31) & 1);
	__cpuid(0x40000000, a, b, c, d);
	printf("max_leaf=0x%08x\n", a);
	for (int i = 0; i < 4; i++) {
		sig[i] = (unsigned char)(b >> (8 * i));
		sig[4 + i] = (unsigned char)(c >> (8 * i));
		sig[8 + i] = (unsigned char)(d >> (8 * i));
	}
	printf("signature=");
	for (int i = 0; i < 12; i++)
		printf("%02x", sig[i]);
	printf("\n");
	return 0;
}
