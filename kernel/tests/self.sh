cd /tmp
/samples/self_checkpoint > self.image &
sleep 4
mv /tmp/cr-self.out /tmp/cr-self.out.orig
cp /tmp/cr-self.out.orig /tmp/cr-self.out
echo "--- original"
cat /tmp/cr-self.out
kill %1
ckptinfo self.image > /dev/null
echo "ckptinfo rc=$?"
sed -i 's/count/xxxxx/g' /tmp/cr-self.out
restart -i self.image -l /dev/console &
sleep 4
echo "--- restarted"
cat /tmp/cr-self.out
ps | grep -v "\["
