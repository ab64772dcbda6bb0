#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: build the stock 6.12 kernel and ours with the same "bench"
# configuration (no debug options), boot each with the same benchmark
# plan (harness/bench/*.c) in this one invocation, and print every figure
# with the ratio ours/stock.  Benchmarks are not tests: nothing here
# passes or fails on a figure; a benchmark that does not run is an error.

. "$(dirname "$0")/lib.sh"

logs=$BUILD/logs
mkdir -p "$logs"

# X86_BENCH=0 skips the x86_64 part (stock against ours).
if [ "${X86_BENCH:-1}" = 1 ]; then
arch=x86_64
arch_setup $arch
mkdir -p "$BUILD/obj/bench-$arch"
hdr=$BUILD/obj/headers-$arch-stock

for tree in stock guestmem; do
	"$TOP/harness/build-kernel.sh" $tree $arch bench >/dev/null
done
# The benchmarks use only uAPI that stock 6.12 has.
kmake "$(obj_dir stock $arch bench)" "$(pristine_dir)" headers_install \
	INSTALL_HDR_PATH="$hdr" >/dev/null
for c in "$TOP"/harness/bench/*.c; do
	gcc -static -O2 -Wall -Werror -isystem "$hdr/include" \
		-I "$TOP/tools/testing/selftests/guestmem" \
		-o "$BUILD/obj/bench-$arch/$(basename "$c" .c)" "$c"
done

for tree in stock guestmem; do
	initrd=$BUILD/obj/initramfs-$arch-bench-$tree.cpio
	TREE=$tree FLAVOUR=bench "$TOP/harness/mkinitramfs.sh" $arch bench "$initrd"
	log "booting $tree kernel with the benchmark plan"
	"$TOP/harness/run-qemu.sh" $arch "$(obj_dir $tree $arch bench)/$KIMAGE" \
		"$initrd" "$logs/$arch-bench-$tree.log" 1800
	python3 "$TOP/harness/parse.py" --quiet --label "bench-$tree" \
		"$logs/$arch-bench-$tree.log" ||
		die "the benchmark plan failed on the $tree kernel (see $logs/$arch-bench-$tree.log)"
done

# Table 1: every figure of stock and ours (those only ours has show "-"
# for stock).  Table 2: ours with GUEST_MEMFD_FLAG_NO_DIRECT_MAP ("nodm/")
# against ours without, both from our kernel's one boot.
echo
awk '
	FNR == 1 { which++ }
	$1 == "BENCH" {
		if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
		v[which, $2] = $3; unit[$2] = $4
	}
	END {
		printf "%-44s %12s %12s %8s\n", "benchmark", "stock", "ours", "ratio"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (k ~ /^(nodm|inplace|inplace_nodm|huge|huge_nodm)\//)
				continue
			s = (1, k) in v ? sprintf("%9.2f %-2s", v[1, k], unit[k]) : sprintf("%12s", "-")
			o = (2, k) in v ? sprintf("%9.2f %-2s", v[2, k], unit[k]) : sprintf("%12s", "-")
			r = ((1, k) in v) && ((2, k) in v) && v[1, k] ? sprintf("%8.3f", v[2, k] / v[1, k]) : sprintf("%8s", "-")
			printf "%-44s %s %s %s\n", k, s, o, r
		}
		print "(ratio = ours/stock, measured in this one run; lower is faster for ms)"
		print ""
		printf "%-44s %12s %19s %8s\n", "ours, GUEST_MEMFD_FLAG_NO_DIRECT_MAP", "without", "with", "ratio"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (k !~ /^nodm\//)
				continue
			b = substr(k, 6)
			w = (2, b) in v ? sprintf("%9.2f %-2s", v[2, b], unit[b]) : sprintf("%12s", "-")
			r = ((2, b) in v) && v[2, b] ? sprintf("%8.3f", v[2, k] / v[2, b]) : sprintf("%8s", "-")
			printf "%-44s %s %11.2f %-7s %s\n", b, w, v[2, k], unit[k], r
		}
		print "(ratio = with/without the flag, on our kernel in this one run)"
		print ""
		printf "%-44s %12s %19s %8s\n", "ours, GUEST_MEMFD_FLAG_HUGEPAGE", "4 KiB-backed", "2 MiB-backed", "ratio"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (k !~ /^huge\// || k ~ /_(min|max)$/)
				continue
			b = substr(k, 6)
			w = (2, b) in v ? sprintf("%9.2f %-2s", v[2, b], unit[b]) : sprintf("%12s", "-")
			r = ((2, b) in v) && v[2, b] ? sprintf("%8.3f", v[2, k] / v[2, b]) : sprintf("%8s", "-")
			printf "%-44s %s %11.2f %-7s %s\n", b, w, v[2, k], unit[k], r
		}
		print "(ratio = 2 MiB-backed/4 KiB-backed, on our kernel in this one run)"
		print ""
		printf "%-44s %12s %19s %8s\n", "ours, 2 MiB-backed, NO_DIRECT_MAP", "without", "with", "ratio"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (k !~ /^huge_nodm\// || k ~ /_(min|max)$/)
				continue
			b = substr(k, 11)
			w = (2, "huge/" b) in v ? sprintf("%9.2f %-2s", v[2, "huge/" b], unit[k]) : sprintf("%12s", "-")
			r = ((2, "huge/" b) in v) && v[2, "huge/" b] ? sprintf("%8.3f", v[2, k] / v[2, "huge/" b]) : sprintf("%8s", "-")
			printf "%-44s %s %11.2f %-7s %s\n", b, w, v[2, k], unit[k], r
		}
		print "(ratio = with/without the flag, both 2 MiB-backed, on our kernel in this one run)"
		print ""
		printf "%-30s %12s %12s %12s %8s %8s\n", "conversion (us)", "stock vmattr", "ours inplace", "inpl. nodm", "ratio", "nodm"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (k !~ /^vmattr\// || k ~ /_(min|max)$/)
				continue
			b = substr(k, 8)
			s = (1, k) in v ? v[1, k] : 0
			o = (2, "inplace/" b) in v ? v[2, "inplace/" b] : 0
			d = (2, "inplace_nodm/" b) in v ? v[2, "inplace_nodm/" b] : 0
			printf "%-30s %12.2f %12.2f %12.2f %8s %8s\n", b, s, o, d,
				s && o ? sprintf("%.3f", o / s) : "-", s && d ? sprintf("%.3f", d / s) : "-"
		}
		print "(ratio = ours in place / stock 6.12 KVM_SET_MEMORY_ATTRIBUTES, same run;"
		print " nodm = the same with GUEST_MEMFD_FLAG_NO_DIRECT_MAP; ours vmattr is in table 1)"
	}' <(sed -n 's/^ *\(BENCH .*\)/\1/p' "$logs/$arch-bench-stock.log") \
	   <(sed -n 's/^ *\(BENCH .*\)/\1/p' "$logs/$arch-bench-guestmem.log")
fi

# arm64: the share/unshare round trip of harness/bench/arm64/pkvm-share.c,
# on our arm64 test kernel (the one make test boots: debug options on,
# the same for both figures), booted in protected mode and in nVHE mode.
# ARM64_BENCH=0 skips it.
[ "${ARM64_BENCH:-1}" = 1 ] || exit 0
arch=arm64
arch_setup $arch
"$TOP/harness/build-kernel.sh" guestmem $arch test >/dev/null
hdr=$BUILD/obj/headers-$arch
kmake "$(obj_dir guestmem $arch test)" "$(tree_dir guestmem)" headers_install \
	INSTALL_HDR_PATH="$hdr" >/dev/null
rm -rf "$BUILD/obj/bench-$arch"
mkdir -p "$BUILD/obj/bench-$arch"
for c in "$TOP"/harness/bench/arm64/*.c; do
	${CROSS}gcc -static -O2 -Wall -Werror -isystem "$hdr/include" \
		-I "$TOP/tools/testing/selftests/guestmem" \
		-o "$BUILD/obj/bench-$arch/$(basename "$c" .c)" "$c"
done
initrd=$BUILD/obj/initramfs-$arch-bench.cpio
"$TOP/harness/mkinitramfs.sh" $arch bench "$initrd"
for mode in protected nvhe; do
	log "booting the arm64 kernel with kvm-arm.mode=$mode and the benchmark plan"
	"$TOP/harness/run-qemu.sh" $arch "$(obj_dir guestmem $arch test)/$KIMAGE" \
		"$initrd" "$logs/$arch-bench-$mode.log" 600 "kvm-arm.mode=$mode"
	python3 "$TOP/harness/parse.py" --quiet --label "bench-$arch-$mode" \
		"$logs/$arch-bench-$mode.log" ||
		die "the benchmark plan failed in $mode mode (see $logs/$arch-bench-$mode.log)"
done
echo
# The console log has CRLF line ends.  A figure that is missing fails the
# run instead of printing as zero.
cat "$logs/$arch-bench-protected.log" "$logs/$arch-bench-nvhe.log" | tr -d '\r' |
	sed -n 's/^ *BENCH arm64_share_unshare_round_\([a-z_]*\) \([0-9.]*\) us$/\1 \2/p' |
	awk '{ v[$1] = $2 }
	END {
		p = v["protected"]; n = v["nvhe_default"]
		if (p == "" || n == "") {
			print "bench: no arm64 share/unshare median in the logs" > "/dev/stderr"
			exit 1
		}
		printf "%-44s %12s %12s %8s\n", "arm64 4 KiB share+unshare round (us)", "nVHE default", "protected", "ratio"
		printf "%-44s %12.2f %12.2f %8s\n", "median of 201 rounds", n, p,
			n ? sprintf("%.3f", p / n) : "-"
		print "(ratio = protected VM / default VM on the same kernel in this one run;"
		print " the difference is the EL2 ownership change; min and max are in the logs)"
	}'
