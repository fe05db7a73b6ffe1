/*
 * xen-cpuid: what a guest's CPU says about the hypervisor beneath it, for
 * the Xen lab (tests/vm/test_vm_xen.py) and the fixtures' `cpuid` files.
 *
 *   xen-cpuid          plain CPUID, as any program (and offloadctl) sees it
 *   xen-cpuid --fep    Xen's forced-emulation prefix (ud2; "xen"; cpuid):
 *                      in a PV domain this traps into Xen, which answers with
 *                      the CPUID policy it gives the guest; elsewhere it is
 *                      an invalid opcode and the answer is "fep: SIGILL".
 *
 * Output, one key a line: hypervisor_bit (leaf 1 ECX bit 31), then for
 * 0x40000000 and 0x40000100 the signature (12 characters, NULs as '.')
 * and the highest leaf.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int fep;
static sigjmp_buf ill;

static void on_ill(int sig)
{
	(void)sig;
	siglongjmp(ill, 1);
}

static void cpuid(unsigned leaf, unsigned r[4])
{
	unsigned a = leaf, b, c = 0, d;
	if (fep)
		__asm__ volatile("ud2a; .ascii \"xen\"; cpuid"
				 : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	else
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	r[0] = a, r[1] = b, r[2] = c, r[3] = d;
}

static void sig(unsigned leaf)
{
	unsigned r[4];
	char s[13];
	cpuid(leaf, r);
	memcpy(s, &r[1], 4);
	memcpy(s + 4, &r[2], 4);
	memcpy(s + 8, &r[3], 4);
	for (int i = 0; i < 12; i++)
		if (s[i] == 0)
			s[i] = '.';
	s[12] = 0;
	printf("leaf_%08x_signature=%s\nleaf_%08x_max=0x%08x\n", leaf, s, leaf, r[0]);
}

int main(int argc, char **argv)
{
	unsigned r[4];
	fep = argc > 1 && strcmp(argv[1], "--fep") == 0;
	signal(SIGILL, on_ill);
	signal(SIGSEGV, on_ill);
	if (sigsetjmp(ill, 1)) {
		printf("fep=SIGILL\n");
		return 0;
	}
	cpuid(1, r);
	printf("mode=%s\nhypervisor_bit=%u\n", fep ? "fep" : "plain", (r[2] >> 31) & 1);
	sig(0x40000000);
	sig(0x40000100);
	return 0;
}
