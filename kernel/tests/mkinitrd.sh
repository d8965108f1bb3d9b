#!/bin/sh
# usage: mkinitrd.sh 'TEST_SCRIPT [TEST_SCRIPT...]' OUT.cpio.gz  (scripts run in order)
set -e
T=$1; OUT=$2
R=$(mktemp -d); chmod 755 $R
mkdir -p $R/bin $R/sbin $R/usr/bin $R/usr/sbin $R/proc $R/sys $R/dev $R/tmp $R/samples $R/etc $R/sys/fs/cgroup
cp /bin/busybox $R/bin/busybox
for a in $(/bin/busybox --list | grep -vx busybox); do ln -sf /bin/busybox $R/bin/$a 2>/dev/null || true; done
cp ${KDEV:-/root/.cache/kdev}/bin/guest/* $R/usr/bin/
cp ${KDEV:-/root/.cache/kdev}/bin/samples/* $R/samples/
cat > $R/init <<'EOI'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "=== TEST START"
sh /test.sh
echo "=== TEST END rc=$?"
reboot -f
EOI
chmod +x $R/init
echo 'root:x:0:0:root:/:/bin/sh' > $R/etc/passwd
echo 'user:x:1000:1000:user:/tmp:/bin/sh' >> $R/etc/passwd
echo 'root:x:0:' > $R/etc/group
echo 'user:x:1000:' >> $R/etc/group
[ -n "$EXTRA" ] && cp -r $EXTRA/. $R/
cat $T > $R/test.sh
(cd $R && find . | cpio -o -H newc 2>/dev/null | gzip -1) > $OUT
rm -rf $R
