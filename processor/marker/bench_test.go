package marker

import "testing"

func BenchmarkMatch(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"noise", "audit: type=1400 audit(1772390745.123:966146): apparmor=\"DENIED\" operation=\"open\" profile=\"cri-containerd.apparmor.d\" name=\"/proc/sys/kernel/random/boot_id\""},
		{"header", "BUG: kernel NULL pointer dereference, address: 0000000000000402"},
		{"frame", " netfs_rreq_assess+0x1b4/0x4f0 [netfs]"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			raw := []byte(bc.line)
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				Match(raw)
			}
		})
	}
}
