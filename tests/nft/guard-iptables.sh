iptables-nft -w -I INPUT -p tcp -d 192.0.2.1 --dport 8443 --syn -m conntrack --ctstate NEW -j NFQUEUE --queue-num 7
