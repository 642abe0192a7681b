// Package schemas embeds the JSON Schemas and Elasticsearch templates that
// ship with oopsflow, so the binary validates and installs exactly the files
// in this directory.
package schemas

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

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

// IngestPipeline is the default ingest pipeline oopsflow-kernel-oops.
//
//go:embed elasticsearch/ingest-pipeline.json
var IngestPipeline []byte

// IndexTemplate is the composable index template oopsflow-kernel-oops.
//
//go:embed elasticsearch/index-template.json
var IndexTemplate []byte

// Document is the JSON Schema of one document.
//
//go:embed document.schema.json
var Document []byte

// MappedFields flattens the mappings component template into field path ->
// Elasticsearch type ("object" for objects without a type).
func MappedFields() (map[string]string, error) {
	var ct struct {
		Template struct {
			Mappings struct {
				Properties map[string]field `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(MappingsTemplate, &ct); err != nil {
		return nil, fmt.Errorf("mappings template: %w", err)
	}
	out := map[string]string{}
	var walk func(prefix string, props map[string]field)
	walk = func(prefix string, props map[string]field) {
		for name, f := range props {
			typ := f.Type
			if typ == "" {
				typ = "object"
			}
			out[prefix+name] = typ
			walk(prefix+name+".", f.Properties)
		}
	}
	walk("", ct.Template.Mappings.Properties)
	return out, nil
}

type field struct {
	Type       string           `json:"type"`
	Properties map[string]field `json:"properties"`
}
