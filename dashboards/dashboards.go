// Package dashboards embeds the Kibana saved objects that "oopsflow setup"
// imports.
package dashboards

import _ "embed"

// KernelOops is the NDJSON of the fleet overview dashboard and its objects.
//
//go:embed kernel-oops.ndjson
var KernelOops []byte
