cd /tmp
mount -t cgroup2 none /sys/fs/cgroup
echo "=== cgroup v2"
crworkload -r /tmp/r2 -d /tmp/d2 < /dev/null > /tmp/w2.log 2>&1 &
W=$!
while ! grep -q ready /tmp/w2.log; do sleep 1; done
cat /tmp/w2.log
echo "--- checkpoint running target (expect EBUSY)"
checkpoint $W -o /tmp/bad.img -l /dev/console; echo "rc=$?"
mkdir /sys/fs/cgroup/f
echo $W > /sys/fs/cgroup/f/cgroup.procs
echo 1 > /sys/fs/cgroup/f/cgroup.freeze
sleep 1
cat /sys/fs/cgroup/f/cgroup.events
checkpoint $W -o /tmp/w2.img -l /dev/console; echo "checkpoint rc=$?"
ckptinfo /tmp/w2.img | tail -3
kill -9 $W
echo 0 > /sys/fs/cgroup/f/cgroup.freeze
sleep 1
restart -i /tmp/w2.img -l /dev/console &
R=$!
sleep 5
kill -USR1 $R
n=0; while [ ! -s /tmp/r2 ] && [ $n -lt 60 ]; do sleep 1; n=$((n+1)); done
echo "result v2: $(cat /tmp/r2)"
echo "=== cgroup v1"
mkdir -p /tmp/fz
mount -t cgroup -o freezer freezer /tmp/fz
mkdir /tmp/fz/g
crworkload -r /tmp/r1 -d /tmp/d1 -m 32 < /dev/null > /tmp/w1.log 2>&1 &
W=$!
while ! grep -q ready /tmp/w1.log; do sleep 1; done
echo $W > /tmp/fz/g/tasks
echo FROZEN > /tmp/fz/g/freezer.state
sleep 1
cat /tmp/fz/g/freezer.state
checkpoint $W -l /dev/console > /tmp/w1.img; echo "checkpoint rc=$?"
ls -la /tmp/w1.img
kill -9 $W
echo THAWED > /tmp/fz/g/freezer.state
cat /tmp/w1.img | restart -l /dev/console &
R=$!
sleep 5
kill -USR1 $R
n=0; while [ ! -s /tmp/r1 ] && [ $n -lt 60 ]; do sleep 1; n=$((n+1)); done
echo "result v1: $(cat /tmp/r1)"
echo "=== expected failures"
sleep 100 < /dev/console > /dev/console 2>&1 &
S=$!
echo $S > /sys/fs/cgroup/f/cgroup.procs
echo 1 > /sys/fs/cgroup/f/cgroup.freeze
sleep 1
checkpoint $S -o /tmp/tty.img -l /dev/console; echo "tty rc=$?"
ckptinfo /tmp/tty.img; echo "ckptinfo rc=$?"
/samples/checkpoint $S > /tmp/s.img; echo "3-arg sample rc=$?"
echo 0 > /sys/fs/cgroup/f/cgroup.freeze
kill $S
