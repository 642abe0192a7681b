// Package schemas embeds the JSON Schemas and Elasticsearch templates that
// ship with oopsflow, so the binary validates and installs exactly the files
// in this directory.
package schemas

import _ "embed"

// Signature is the JSON Schema every signatures/*.yaml file must satisfy.
//
//go:embed signature.schema.json
var Signature []byte

// Elasticsearch objects installed by "oopsflow setup", in install order.

// ILMPolicy is the lifecycle policy oopsflow-kernel-oops.
//
//go:embed elasticsearch/ilm-policy.json
var ILMPolicy []byte

// MappingsTemplate is the component template oopsflow-kernel-oops-mappings.
//
//go:embed elasticsearch/component-template-mappings.json
var MappingsTemplate []byte

// SettingsTemplate is the component template oopsflow-kernel-oops-settings.
//
//go:embed elasticsearch/component-template-settings.json
var SettingsTemplate []byte

// IndexTemplate is the composable index template oopsflow-kernel-oops.
//
//go:embed elasticsearch/index-template.json
var IndexTemplate []byte

// Document is the JSON Schema of one document.
//
//go:embed document.schema.json
var Document []byte
