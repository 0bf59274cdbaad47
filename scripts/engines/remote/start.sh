#!/bin/sh
# sshd in the background (it daemonizes), dockerd in the foreground: on the unix socket that
# `docker system dial-stdio` dials, and on tcp+TLS with the test certificates (client certificates required).
set -eu
mkdir -p /run/sshd
/usr/sbin/sshd -e
exec dockerd -H unix:///var/run/docker.sock -H tcp://0.0.0.0:2376 --tlsverify \
  --tlscacert /etc/stigmer-remote/tls/ca.pem --tlscert /etc/stigmer-remote/tls/server-cert.pem --tlskey /etc/stigmer-remote/tls/server-key.pem
