// Package schemas embeds the JSON Schemas and Elasticsearch templates that
// ship with oopsflow, so the binary validates and installs exactly the files
// in this directory.
package schemas

import _ "embed"

// Signature is the JSON Schema every signatures/*.yaml file must satisfy.
//
//go:embed signature.schema.json
var Signature []byte
