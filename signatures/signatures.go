// Package signatures embeds the known-issue knowledge base: one YAML file
// per known kernel bug, plus the example logs each signature is tested on.
package signatures

import "embed"

// FS holds *.yaml and examples/.
//
//go:embed *.yaml examples
var FS embed.FS
