cd /tmp
/samples/self_checkpoint > self.image &
sleep 4
kill %1
cat /proc/cpuinfo | grep -m1 flags | cut -c1-80
echo "=== IMAGE BEGIN"
base64 self.image
echo "=== IMAGE END"
