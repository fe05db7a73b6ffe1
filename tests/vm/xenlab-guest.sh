#!/bin/bash
# The guest side of the Xen lab (tests/vm/xenlab.py, tests/vm/test_vm_xen.py).
#
#   xenlab-guest.sh dom0 LAB OUT     in dom0 (LAB: the 9p share, OUT: results)
#   xenlab-guest.sh domu LAB OUT     in a domU (LAB and OUT on its own disk)
#   /xenlab/init                     a domU's PID 1 (a copy of this file):
#                                    domu_init, then domu /xenlab /xenlab/out
#
# It only collects: every command's output, exit status and timing lands in
# OUT as files; the host judges them.  Nothing here decides pass or fail, so
# a broken step leaves evidence instead of stopping the run.  Every wait has
# a timeout.  LAB holds offloadctl_*.deb, xen-cpuid, lab.env (settings from
# the host) and example.yaml (the shipped examples/xen-domu.yaml).
set -u
[ $$ -eq 1 ] && set -- domu-init /xenlab /xenlab/out
ROLE=$1 LAB=$2 OUT=$3
mkdir -p "$OUT"
# shellcheck disable=SC1091
. "$LAB/lab.env"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# In a PV domain under TCG every fork costs about a second (page-table
# updates trap into Xen, which QEMU emulates): builtins wherever possible.
T0=${EPOCHREALTIME%.*}

say() {
	local line="xenlab[$ROLE $((${EPOCHREALTIME%.*} - T0))s]: $*"
	printf '%s\n' "$line" >>"$OUT/progress.log"
	printf '%s\n' "$line" >/dev/console 2>/dev/null
	return 0
}

# run NAME CMD...: stdout to OUT/NAME.out, stderr to OUT/NAME.err, status to OUT/NAME.rc
run() {
	local name=$1
	shift
	"$@" >"$OUT/$name.out" 2>"$OUT/$name.err" </dev/null
	local rc=$?
	echo $rc >"$OUT/$name.rc"
	return $rc
}

phase() { # phase NAME: wall time of each phase into OUT/phases.txt
	echo "$1 $EPOCHREALTIME" >>"$OUT/phases.txt"
	say "phase $1"
}

# The package from `make deb`, unpacked (dpkg-deb -x): its maintainer
# scripts run perl half a dozen times, 90 s in a PV domain under TCG; the
# Linux lab (test_vm_linux.py) installs it with dpkg -i.
# unpack ROOT: the package's files under ROOT.  Not dpkg-deb -x: its tar
# replaces the usrmerge symlinks (/lib -> usr/lib) with directories.
unpack() {
	dpkg-deb --fsys-tarfile "$LAB"/offloadctl_*.deb | tar -x --keep-directory-symlink -C "$1"
}

install_agent() {
	phase install
	run dpkg-deb-x unpack /
	run version offloadctl --version
}

# What this machine is, and the files offloadctl's --root format reads
# (CONTRACT.md "Fixtures"), copied into OUT/root.
capture_virt() {
	phase virt
	run virt offloadctl virt
	run virt-brief offloadctl virt --brief
	run sdv systemd-detect-virt
	run sdv-vm systemd-detect-virt --vm
	run sdv-container systemd-detect-virt --container
	run cpuid "$LAB/xen-cpuid"
	run cpuid-fep "$LAB/xen-cpuid" --fep
	run uname uname -a
	local r=$OUT/root f
	mkdir -p "$r/proc/xen" "$r/proc/1" "$r/proc/sys/kernel"
	# /proc/xen: files of xenfs; only capabilities has content worth keeping.
	ls -la /proc/xen >"$OUT/proc-xen-ls.txt" 2>&1
	for f in /proc/xen/*; do
		[ -e "$f" ] || continue
		case ${f##*/} in
		capabilities) cat "$f" >"$r/proc/xen/capabilities" ;;
		*) : >"$r$f" ;;
		esac
	done
	cat /proc/cpuinfo >"$r/proc/cpuinfo"
	cat /proc/1/cgroup >"$r/proc/1/cgroup"
	cat /proc/sys/kernel/osrelease >"$r/proc/sys/kernel/osrelease"
	local dir content
	for f in $(find /sys/hypervisor /sys/class/dmi/id/ -type f 2>/dev/null); do
		case $f in */uevent | */power/* | */modalias) continue ;; esac
		dir=${f%/*}
		[ -d "$r$dir" ] || mkdir -p "$r$dir"
		content=
		IFS= read -r -d '' content <"$f" 2>/dev/null
		printf '%s' "$content" >"$r$f"
	done
	# The cpuid file: the leaf 0x40000000 signature as plain CPUID shows
	# it; no file when the hypervisor bit is clear.
	if grep -q '^hypervisor_bit=1' "$OUT/cpuid.out"; then
		sed -n 's/^leaf_40000000_signature=//p' "$OUT/cpuid.out" | tr -d '.' >"$r/cpuid"
	fi
	run virt-root offloadctl --root "$r" virt
}

# facts IFACES...: ethtool and both backends on each, and the whole document.
facts() {
	local i b
	phase facts
	run facts-all offloadctl facts
	run ip-link ip -j -d link show
	for i in "$@"; do
		run "ethtool-k-$i" ethtool --json -k "$i"
		run "ethtool-i-$i" ethtool -i "$i"
		readlink -f "/sys/class/net/$i/device/driver/module" >"$OUT/module-$i.txt" 2>&1
		for b in netlink ioctl; do
			run "facts-$b-$i" offloadctl --backend "$b" facts "$i"
		done
		run "ethtool-k2-$i" ethtool --json -k "$i"
	done
}

# restore IF FILE [IF FILE...]: every changeable feature back to what FILE
# (ethtool --json -k) says was requested.  One python for them all.
restore() {
	local i args
	python3 - "$@" >"$OUT/restore.args" <<-'PY'
		import json, sys
		a = sys.argv[1:]
		onoff = {True: "on", False: "off"}
		for i in range(0, len(a), 2):
		    d = json.load(open(a[i + 1]))[0]
		    print(a[i], " ".join(k + " " + onoff[v["requested"]] for k, v in d.items()
		                         if isinstance(v, dict) and v.get("fixed") is False
		                         and v.get("requested") is not None))
	PY
	while read -r i args; do
		# shellcheck disable=SC2086
		ethtool -K "$i" $args >/dev/null 2>&1
	done <"$OUT/restore.args"
	return 0
}

# twins A B: `apply` of tx: off on A, `ethtool -K B tx off` on B, by each
# backend; a second apply; then both put back as they were.
twins() {
	local a=$1 b=$2 be
	for be in netlink ioctl; do
		phase "twins-$be"
		local d=$OUT/twins-$be
		mkdir -p "$d"
		ethtool --json -k "$a" >"$d/a0.json"
		ethtool --json -k "$b" >"$d/b0.json"
		printf 'version: 1\ninterfaces:\n  - match:\n      name: %s\n    features:\n      tx: off\n' "$a" >"$d/tx-off.yaml"
		offloadctl --backend "$be" apply --json "$d/tx-off.yaml" >"$d/apply1.json" 2>"$d/apply1.err"
		echo $? >"$d/apply1.rc"
		ethtool -K "$b" tx off >"$d/ethtool-K.out" 2>&1
		echo $? >"$d/ethtool-K.rc"
		ethtool --json -k "$a" >"$d/a1.json"
		ethtool --json -k "$b" >"$d/b1.json"
		offloadctl --backend "$be" apply --json "$d/tx-off.yaml" >"$d/apply2.json" 2>"$d/apply2.err"
		echo $? >"$d/apply2.rc"
		ethtool --json -k "$a" >"$d/a2.json"
		offloadctl --backend "$be" check "$d/tx-off.yaml" >"$d/check.out" 2>"$d/check.err"
		echo $? >"$d/check.rc"
		restore "$a" "$d/a0.json" "$b" "$d/b0.json"
		ethtool --json -k "$a" >"$d/a3.json"
		ethtool --json -k "$b" >"$d/b3.json"
	done
}

# example IF...: the shipped examples/xen-domu.yaml, for real: the state
# `ethtool -K` gives first (then put back), check, apply, check, apply.
example() {
	phase example
	local d=$OUT/example i
	mkdir -p "$d"
	local pairs=()
	for i in "$@"; do
		ethtool --json -k "$i" >"$d/$i-0.json"
		# shellcheck disable=SC2086
		ethtool -K "$i" $EXAMPLE_ETHTOOL_ARGS >"$d/$i-ethtool-K.out" 2>&1
		ethtool --json -k "$i" >"$d/$i-ref.json"
		pairs+=("$i" "$d/$i-0.json")
	done
	restore "${pairs[@]}"
	for i in "$@"; do ethtool --json -k "$i" >"$d/$i-restored.json"; done
	cp "$LAB/example.yaml" "$d/example.yaml"
	offloadctl check "$LAB/example.yaml" >"$d/check-before.out" 2>"$d/check-before.err"
	echo $? >"$d/check-before.rc"
	offloadctl check --json "$LAB/example.yaml" >"$d/check-before.json" 2>/dev/null
	offloadctl apply "$LAB/example.yaml" >"$d/apply.out" 2>"$d/apply.err"
	echo $? >"$d/apply.rc"
	for i in "$@"; do ethtool --json -k "$i" >"$d/$i-1.json"; done
	offloadctl check "$LAB/example.yaml" >"$d/check-after.out" 2>"$d/check-after.err"
	echo $? >"$d/check-after.rc"
	offloadctl apply --json "$LAB/example.yaml" >"$d/apply2.json" 2>"$d/apply2.err"
	echo $? >"$d/apply2.rc"
	for i in "$@"; do ethtool --json -k "$i" >"$d/$i-2.json"; done
}

xs_is() { [ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ]; }
# domu_done ID: it said so in xenstore, or it is gone
domu_done() { xs_is "/local/domain/$1/data/xenlab" done || ! xenstore-exists "/local/domain/$1"; }
# domu_wait ID NAME DIR: domu_done, keeping a copy of the domU's console log
# in DIR as it grows (a hang shows there while the run still goes on)
domu_wait() {
	cp /var/log/xen/console/guest-"$2".log "$3/console-so-far.log" 2>/dev/null
	domu_done "$1"
}

wait_for() { # wait_for SECONDS CMD...: until CMD succeeds; 1 on timeout
	local end=$((EPOCHSECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$EPOCHSECONDS" -ge $end ] && return 1
		sleep "${WAIT_STEP:-2}"
	done
}

domu_main() {
	say "domU up ($(uname -r))"
	echo "$(cut -d' ' -f1 /proc/uptime)" >"$OUT/uptime-at-start.txt"
	modprobe xenfs 2>/dev/null
	mountpoint -q /proc/xen || mount -t xenfs xenfs /proc/xen 2>"$OUT/xenfs.err"
	# The package was unpacked onto this disk by dom0 (see install_agent).
	run version offloadctl --version
	capture_virt
	# netfront binds when udev has loaded xen-netfront for the vif devices
	# and the backends connected: in a PVH domU under TCG (every exit to
	# Xen emulated) the coldplug can outlast the unit's start by minutes.
	udevadm settle --timeout=600 2>/dev/null
	if ! wait_for 600 test -e /sys/class/net/enX0 -a -e /sys/class/net/enX1; then
		say "no enX0/enX1 after 600 s"
		ls -l /sys/bus/xen/devices/ >"$OUT/xen-devices.txt" 2>&1
		lsmod >"$OUT/lsmod.txt" 2>&1
	fi
	dmesg >"$OUT/dmesg.txt" 2>&1
	ip link set enX0 up
	ip link set enX1 up
	ls /sys/class/net >"$OUT/netdevs.txt"
	facts $(ls /sys/class/net)
	twins enX0 enX1
	if [ "$RUN_EXAMPLE" = 1 ]; then example enX0 enX1; fi
	phase done
	sync
	# Tell dom0 (which then checks our vifs and destroys us).
	xenstore-write data/xenlab done 2>"$OUT/xenstore-write.err"
}

# PID 1 of a domU (init=/xenlab/init, this script under another name): the
# file systems the initramfs did not hand over, udev for the Xen and net
# devices only (netfront's module, the NICs' names: eth0 -> enX0 as on a
# Debian 12 domU), then domu_main.  dom0 destroys the domain when it has
# checked the backends; PID 1 must not exit before that.
domu_init() {
	mountpoint -q /proc || mount -t proc proc /proc
	mountpoint -q /sys || mount -t sysfs sysfs /sys
	mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
	mountpoint -q /run || mount -t tmpfs -o mode=755 tmpfs /run
	mkdir -p /dev/pts /dev/shm /run/lock
	mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts
	mount -o remount,rw /
	hostname -F /etc/hostname 2>/dev/null
	ip link set lo up
	modprobe xen-netfront
	/lib/systemd/systemd-udevd --daemon
	udevadm trigger --action=add --subsystem-match=xen --subsystem-match=net
	udevadm settle --timeout=300
	domu_main
	sync
	if ! xs_is data/xenlab done; then
		say "could not tell dom0: powering off"
		poweroff -f
	fi
	while :; do sleep 3600; done
}

# A domU: its config, its disk prepared from dom0, xl create, the dom0
# side (its vifs) while it runs, then its results off its disk.
run_domu() {
	local name=$1 type=$2 dev=$3 example=$4 backends=$5
	local d=$OUT/$name mnt=/mnt/$name
	mkdir -p "$d" "$mnt"
	phase "$name-prepare"
	mount "$dev" "$mnt" || { say "cannot mount $dev"; return 1; }
	mkdir -p "$mnt/xenlab"
	unpack "$mnt"
	cp "$LAB/xen-cpuid" "$LAB/xenlab-guest.sh" "$LAB/example.yaml" "$mnt/xenlab/"
	sed "s/^RUN_EXAMPLE=.*/RUN_EXAMPLE=$example/" "$LAB/lab.env" >"$mnt/xenlab/lab.env"
	echo "/dev/xvda / ext4 rw,errors=remount-ro 0 0" >"$mnt/etc/fstab"
	echo "$name" >"$mnt/etc/hostname"
	# netfront from the start, whatever udev's coldplug does in a slow
	# domU (a PVH domU came up with no enX0 when udev was left to load it)
	echo xen-netfront >"$mnt/etc/modules-load.d/xenlab.conf"
	# PID 1 of the domU is domu_init below, not systemd: under TCG a PV or
	# PVH domU spent 5-15 minutes in systemd's start and udev's coldplug of
	# every device before its unit ran (README-xen.md).
	cp "$LAB/xenlab-guest.sh" "$mnt/xenlab/init"
	chmod 755 "$mnt/xenlab/init"
	umount "$mnt"
	local k i
	k=$(ls /boot/vmlinuz-* | tail -1)
	# The small initramfs the host boots dom0 with (virtio, ext4,
	# xen-blkfront): Debian's own is 36 MB and takes minutes to unpack in
	# a PV domain under TCG.
	i=/var/lib/xenlab/initrd.img
	[ -e $i ] || i=$(ls /boot/initrd.img-* | tail -1)
	local cmdline="root=/dev/xvda rw console=hvc0 mitigations=off loglevel=5 init=/xenlab/init"
	{
		echo "name = \"$name\""
		echo "type = \"$type\""
		echo "kernel = \"$k\""
		echo "ramdisk = \"$i\""
		echo "cmdline = \"$cmdline\""
		echo "memory = 512"
		echo "vcpus = 1"
		echo "disk = [ \"format=raw,vdev=xvda,access=rw,script=/etc/xen/scripts/xenlab-block,target=$dev\" ]"
		# type=vif: netfront only, no emulated NIC beside it in an HVM domU
		echo "vif = [ \"type=vif,script=/etc/xen/scripts/xenlab-vif,bridge=xenbr0,mac=00:16:3e:5a:${MACID}:01\","
		echo "        \"type=vif,script=/etc/xen/scripts/xenlab-vif,bridge=xenbr0,mac=00:16:3e:5a:${MACID}:02\" ]"
		echo 'on_poweroff = "destroy"'
		echo 'on_crash = "destroy"'
		if [ "$type" = hvm ]; then
			# Direct kernel boot through Debian's device model (qemu-system-xen),
			# no display; the emulated disk is unplugged for blkfront at boot.
			echo 'device_model_version = "qemu-xen"'
			[ -x /usr/libexec/xen-qemu-system-i386 ] &&
				echo 'device_model_override = "/usr/libexec/xen-qemu-system-i386"'
			echo 'vga = "none"'
			echo 'vnc = 0'
			echo 'serial = "pty"'
		fi
	} >"$d/$name.cfg"
	MACID=$(printf '%02x' $((0x$MACID + 1)))
	phase "$name-boot"
	run "$name/xl-create" xl -v create "$d/$name.cfg"
	phase "$name-created"
	local id
	id=$(xl domid "$name" 2>/dev/null)
	[ -n "$id" ] || { say "$name: xl create failed"; return 1; }
	echo "$id" >"$d/domid.txt"
	# The domU says done in xenstore (data/xenlab); then the same checks on
	# its backends vifD.0 and vifD.1 in dom0, one thing at a time (the two
	# TCG CPUs are all there is).
	phase "$name-wait"
	if ! WAIT_STEP=10 wait_for "$DOMU_TIMEOUT" domu_wait "$id" "$name" "$d"; then
		say "$name: not done after $DOMU_TIMEOUT s"
	elif ! xenstore-exists "/local/domain/$id"; then
		say "$name: gone before it said done (crashed? see $name/guest-$name.log)"
	elif [ "$backends" = 1 ]; then
		phase "$name-dom0-side"
		xenstore-ls -f "/local/domain/0/backend/vif/$id" >"$d/xenstore-vif.txt" 2>&1
		ip link set "vif$id.0" up
		ip link set "vif$id.1" up
		local saved=$OUT
		OUT=$d/dom0-side
		mkdir -p "$OUT"
		facts "vif$id.0" "vif$id.1" xenbr0
		twins "vif$id.0" "vif$id.1"
		OUT=$saved
	fi
	xl destroy "$name"
	phase "$name-harvest"
	cp /var/log/xen/console/guest-"$name"*.log "$d/" 2>/dev/null
	mount -o ro "$dev" "$mnt" && cp -a "$mnt/xenlab/out" "$d/domu" && umount "$mnt"
}

dom0_main() {
	say "dom0 up ($(uname -r))"
	# vmlab's 9p agent polls its share 20 times a second, a fork each time:
	# in a PV dom0 that is a good part of a CPU the domUs need.  Stop its
	# loop while the lab runs (our own shell, its child, still reports).
	local ppid2
	read -r _ _ _ ppid2 _ </proc/$PPID/stat
	if [ "${PAUSE_AGENT:-1}" = 1 ] && [ "$ppid2" -gt 1 ]; then
		kill -STOP "$ppid2" && trap 'kill -CONT '"$ppid2" EXIT
	fi
	install_agent
	phase xen-start
	mkdir -p /var/log/xen/console
	# Debian's init script, under another name: the image masks xen.service,
	# and the LSB hook would not run a masked service's script.
	cp /etc/init.d/xen /run/xenlab-xen
	run xen-start env XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console" sh /run/xenlab-xen start
	modprobe -a xen-netback xen-blkback 2>/dev/null
	# Hotplug scripts that fork a handful of processes, not Debian's dozens:
	# those outlast libxl's 40 s timeout in a PV dom0 under TCG.
	install -m 755 "$LAB/xenlab-vif" "$LAB/xenlab-block" /etc/xen/scripts/
	run xl-info xl info
	capture_virt
	ip link add xenbr0 type bridge 2>/dev/null
	ip link set xenbr0 up
	MACID=10
	# The backends' checks once, with the PV domU's vifs: they take four
	# minutes in dom0 and netback is the same for either kind of domU.
	local x
	mkdir -p /var/lib/xenlab
	cp "$LAB/initrd.img" /var/lib/xenlab/initrd.img 2>/dev/null
	for x in ${DOMUS:-pv pvh hvm}; do # DOMUS in lab.env: a shorter run by hand
		case $x in
		pvh) run_domu pvh pvh /dev/vdc 0 0 ;;
		pv) run_domu pv pv /dev/vdb 1 1 ;;
		hvm) run_domu hvm hvm /dev/vdd 0 0 ;;
		esac
	done
	phase done
}

case $ROLE in
dom0) dom0_main ;;
domu) domu_main ;;
domu-init) ROLE=domu domu_init ;;
esac
say "finished"
