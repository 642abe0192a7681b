package kafka

import (
	"strings"
	"testing"
)

func TestSecurity(t *testing.T) {
	if d, err := (Security{}).Dialer(); d != nil || err != nil {
		t.Fatalf("plain: %v %v", d, err)
	}
	for _, m := range []string{"PLAIN", "SCRAM-SHA-256", "scram-sha-512"} {
		d, err := Security{SASLMechanism: m, Username: "u", Password: "p"}.Dialer()
		if err != nil || d.SASLMechanism == nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	for _, tc := range []struct {
		s    Security
		want string
	}{
		{Security{SASLMechanism: "GSSAPI", Username: "u"}, "want PLAIN"},
		{Security{SASLMechanism: "PLAIN"}, "no user name"},
		{Security{TLS: true, CAFile: "/no/such/ca.pem"}, "CA file"},
		{Security{TLS: true, CertFile: "/no/cert", KeyFile: "/no/key"}, "client certificate"},
	} {
		if _, err := tc.s.Dialer(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.s, err, tc.want)
		}
	}
	d, err := Security{TLS: true}.Dialer()
	if err != nil || d.TLS == nil || d.TLS.InsecureSkipVerify {
		t.Fatalf("tls: %+v %v", d, err)
	}
}
