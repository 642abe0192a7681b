package logline

import "testing"

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"rfc3164-userspace", "Mar  1 00:00:01 web-0012 sshd[4512]: Accepted publickey for deploy from 10.1.2.3 port 51234 ssh2: ED25519 SHA256:q8N4cGzYkKx1VtT0WmH3pFz2eU7bA9sRjL5oQiXyD6c"},
		{"rfc3164-kernel", "Mar  1 00:00:01 web-0012 kernel: [1001526.015850] IPv6: ADDRCONF(NETDEV_CHANGE): vethe7796: link becomes ready"},
		{"rfc3339-kernel", "2026-03-01T00:00:01.123456+00:00 web-0012 kernel: [1001526.015850] IPv6: ADDRCONF(NETDEV_CHANGE): vethe7796: link becomes ready"},
		{"rfc5424-kernel", "<4>1 2026-03-01T00:00:01.123456Z web-0012 kernel - - - [1001526.015850] IPv6: ADDRCONF(NETDEV_CHANGE): vethe7796: link becomes ready"},
		{"journald-kernel", `{"__REALTIME_TIMESTAMP":"1772323201123456","_HOSTNAME":"web-0012","_BOOT_ID":"5c8e0f4a2b9d4e61a7c3d2f1e0b9a8c7","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"IPv6: ADDRCONF(NETDEV_CHANGE): vethe7796: link becomes ready","PRIORITY":"4","_TRANSPORT":"kernel","_SOURCE_MONOTONIC_TIMESTAMP":"1001526015850"}`},
		{"console", "[1001526.015850][ T1083] IPv6: ADDRCONF(NETDEV_CHANGE): vethe7796: link becomes ready"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := Decoder{DefaultHost: "h"}
			raw := []byte(bc.line)
			var l Line
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if err := d.Decode(raw, &l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
