cd /tmp
cp /img/self.image /tmp/self.image
echo "hello" > /tmp/cr-self.out
ckptinfo /tmp/self.image | grep xfeatures
grep -m1 flags /proc/cpuinfo | grep -o -w "xsave\|avx\|avx2\|avx512f\|pku" | tr '\n' ' '; echo
restart -i /img/self.image -l /dev/console &
sleep 3
cat /tmp/cr-self.out
