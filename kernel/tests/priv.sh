cd /tmp
mount -t cgroup2 none /sys/fs/cgroup
mkdir /sys/fs/cgroup/f
crworkload -r /tmp/r -d /tmp/d < /dev/null > /tmp/w.log 2>&1 &
W=$!
while ! grep -q ready /tmp/w.log; do sleep 1; done
echo $W > /sys/fs/cgroup/f/cgroup.procs
echo 1 > /sys/fs/cgroup/f/cgroup.freeze
sleep 1
echo "--- unprivileged user vs root's frozen task (expect EPERM)"
su user -c "checkpoint $W -o /tmp/u.img -l /tmp/u.log"; echo "rc=$?"; cat /tmp/u.log
echo "--- checkpoint to a pipe, restart from a pipe"
checkpoint $W -l /dev/console | cat > /tmp/p.img; echo "rc=$?"
ckptinfo /tmp/p.img | tail -1
kill -9 $W
echo 0 > /sys/fs/cgroup/f/cgroup.freeze
echo "--- user restarts root's image that refers to root's files: expect EACCES or similar"
chmod 644 /tmp/p.img
su user -c "restart -i /tmp/p.img -l /tmp/u2.log"; echo "rc=$?"; cat /tmp/u2.log
echo "--- ckpt_unpriv_allowed=0"
echo 0 > /proc/sys/kernel/ckpt_unpriv_allowed
su user -c "/samples/self_checkpoint > /tmp/self.u.img"; echo "rc=$?"; cat /tmp/cr-self.out
echo 1 > /proc/sys/kernel/ckpt_unpriv_allowed
echo "--- unprivileged self checkpoint and restart (restart: EPERM, the exe link needs CAP_CHECKPOINT_RESTORE)"
su user -c "/samples/self_checkpoint > /tmp/self.u.img" &
sleep 4
cat /tmp/cr-self.out
kill %1
sleep 1
su user -c "restart -i /tmp/self.u.img -l /dev/null" &
sleep 3
cat /tmp/cr-self.out
echo "--- bad flags / bad fd"
checkpoint 0 -o /dev/null -l /dev/console; echo "rc=$?"

cat /tmp/p.img | head -c 5000 | restart -l /dev/console; echo "truncated pipe rc=$?"
