package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/v2"

	"github.com/oopsflow/oopsflow/processor/elastic"
)

// Sources are the layers of one front end's configuration.
type Sources struct {
	// Front is the front end: it picks the defaults, and the flags or
	// keys that exist.
	Front Front
	// Flags is the parsed flag set of Register (nil: no flag layer).
	Flags *flag.FlagSet
	// Environ returns the environment as KEY=value (nil: os.Environ). The
	// plugin reads no environment: Fluent Bit expands ${VAR} in its own
	// configuration.
	Environ func() []string
	// Plugin returns a Fluent Bit [OUTPUT] key's value, "" when absent
	// (nil: no plugin layer).
	Plugin func(key string) string
}

// Register adds the flags of front to fs, and --config. Their usage texts
// name the environment variable where there is one.
func Register(fs *flag.FlagSet, front Front) {
	d := Defaults(front)
	fs.Var(&flagValue{key: FileFlag}, FileFlag, "YAML configuration file, the same for every front end (env "+FileEnv+")")
	for _, f := range Fields {
		if f.Flag == "" || f.Fronts&front == 0 {
			continue
		}
		t := typeAt(f.Key)
		v := &flagValue{key: f.Key, isBool: t.Kind() == reflect.Bool, list: t.Kind() == reflect.Slice}
		help := f.Help
		if f.Env != "" {
			help += " (env " + f.Env + ")"
		}
		if dv := valueAt(&d, f.Key); !dv.IsZero() {
			v.def = fmt.Sprint(dv.Interface())
		}
		fs.Var(v, f.Flag, help)
	}
}

// Load reads the layers of s over the front end's defaults: the YAML file
// (named by --config, the environment or the Config key), the environment,
// then the flags or the plugin's keys. It checks every value; an error
// names the field where the bad value was written.
func Load(s Sources) (*Config, error) {
	ld := &loader{k: koanf.New("."), origin: map[string]string{}}
	environ := s.Environ
	if environ == nil {
		environ = os.Environ
	}
	if s.Front == Plugin {
		environ = func() []string { return nil }
	}
	file := lookupEnv(environ, FileEnv)
	if s.Flags != nil {
		if fl := s.Flags.Lookup(FileFlag); fl != nil {
			if v, ok := fl.Value.(*flagValue); ok && len(v.vals) > 0 {
				file = v.raw()
			}
		}
	}
	if s.Plugin != nil {
		file = s.Plugin(FilePlugin)
		if alerts := s.Plugin(AlertsFilePlugin); alerts != "" {
			if err := ld.file(alerts, "alerts"); err != nil {
				return nil, fmt.Errorf("%s: %w", AlertsFilePlugin, err)
			}
		}
	}
	if file != "" {
		if err := ld.file(file, ""); err != nil {
			return nil, err
		}
	}
	if err := ld.environment(environ); err != nil {
		return nil, err
	}
	if s.Flags != nil {
		if err := ld.flags(s.Flags); err != nil {
			return nil, err
		}
	}
	if s.Plugin != nil {
		if err := ld.plugin(s.Plugin); err != nil {
			return nil, err
		}
	}
	cfg := Defaults(s.Front)
	cfg.origin = ld.origin
	if err := ld.decode(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// loader merges the layers into k, noting where each key was written.
type loader struct {
	k      *koanf.Koanf
	origin map[string]string
	files  []string
}

// file loads a YAML file (only its section under, when not empty).
func (l *loader) file(path, under string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	fk := koanf.New(".")
	if err := fk.Load(rawBytes(data), yaml.Parser()); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if under != "" {
		sub := koanf.New(".")
		if raw := fk.Get(under); raw != nil {
			if err := sub.Load(confmap.Provider(map[string]any{under: raw}, "."), nil); err != nil {
				return fmt.Errorf("config %s: %w", path, err)
			}
		}
		fk = sub
	}
	for _, key := range fk.Keys() {
		if err := known(key); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
		l.origin[key] = path + ": " + key
	}
	l.files = append(l.files, path)
	return l.k.Merge(fk)
}

func (l *loader) environment(environ func() []string) error {
	byEnv := map[string]Field{}
	for _, f := range Fields {
		if f.Env != "" {
			byEnv[f.Env] = f
		}
	}
	var bad error
	p := env.Provider(".", env.Opt{Prefix: "OOPSFLOW_", EnvironFunc: environ, TransformFunc: func(k, v string) (string, any) {
		f, ok := byEnv[k]
		if !ok || v == "" {
			return "", nil
		}
		x, err := parse(typeAt(f.Key), v)
		if err != nil {
			bad = errors.Join(bad, fmt.Errorf("env %s=%q: %w", k, v, err))
			return "", nil
		}
		l.origin[f.Key] = "env " + k
		return f.Key, x
	}})
	if err := l.k.Load(p, nil); err != nil {
		return fmt.Errorf("environment: %w", err)
	}
	return bad
}

func (l *loader) flags(fs *flag.FlagSet) error {
	m := map[string]any{}
	var bad error
	fs.Visit(func(fl *flag.Flag) {
		v, ok := fl.Value.(*flagValue)
		if !ok || v.key == FileFlag {
			return
		}
		x, err := parse(typeAt(v.key), v.raw())
		if err != nil {
			bad = errors.Join(bad, fmt.Errorf("--%s %q: %w", fl.Name, v.raw(), err))
			return
		}
		m[v.key] = x
		l.origin[v.key] = "--" + fl.Name
	})
	if bad != nil {
		return bad
	}
	return l.k.Load(confmap.Provider(m, "."), nil)
}

func (l *loader) plugin(get func(string) string) error {
	m := map[string]any{}
	for _, f := range Fields {
		if f.Plugin == "" || f.Fronts&Plugin == 0 {
			continue
		}
		raw := get(f.Plugin)
		if raw == "" {
			continue
		}
		x, err := parse(typeAt(f.Key), raw)
		if err != nil {
			return fmt.Errorf("%s %q: %w", f.Plugin, raw, err)
		}
		m[f.Key] = x
		l.origin[f.Key] = f.Plugin
	}
	return l.k.Load(confmap.Provider(m, "."), nil)
}

// decode fills cfg from the merged layers.
func (l *loader) decode(cfg *Config) error {
	dc := &mapstructure.DecoderConfig{
		TagName:          "yaml",
		ErrorUnused:      true,
		WeaklyTypedInput: true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			durationHook,
			mapstructure.StringToSliceHookFunc(","),
		),
	}
	if err := l.k.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{Tag: "yaml", DecoderConfig: dc}); err != nil {
		where := "config"
		if len(l.files) > 0 {
			where = "config " + strings.Join(l.files, ", ")
		}
		// One line per problem, without the decoder's preamble.
		msg := strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):")
		var lines []string
		for _, l := range strings.Split(msg, "\n") {
			if l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "*")); l != "" {
				lines = append(lines, l)
			}
		}
		return fmt.Errorf("%s: %s", where, strings.Join(lines, "; "))
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// durationHook reads "30s" as a duration, and refuses a bare number (30
// would be 30 nanoseconds).
func durationHook(from, to reflect.Type, v any) (any, error) {
	if to != durationType || from == durationType {
		return v, nil
	}
	switch x := v.(type) {
	case string:
		d, err := time.ParseDuration(x)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration such as 30s", x)
		}
		return d, nil
	case int, int64, float64, uint64:
		return nil, fmt.Errorf("%v is not a duration: write it with a unit, such as 30s", x)
	}
	return v, nil
}

// check refuses values out of range, naming where each was written.
func (c *Config) check() error {
	for _, f := range Fields {
		v := valueAt(c, f.Key)
		if f.Positive { // on integers and durations only (TestTable)
			if v.Int() <= 0 {
				return fmt.Errorf("%s: %v: want a positive value (leave it out for the default)", c.Where(f.Key), v.Interface())
			}
		}
		if len(f.OneOf) > 0 {
			s := strings.ToLower(v.String())
			ok := false
			for _, o := range f.OneOf {
				ok = ok || s == o
			}
			if !ok {
				return fmt.Errorf("%s: %q: want %s", c.Where(f.Key), v.String(), strings.Join(f.OneOf, " or "))
			}
			v.SetString(s)
		}
	}
	for _, u := range c.Elasticsearch.URLs {
		if err := elastic.CheckURL(u); err != nil {
			return fmt.Errorf("%s: %w", c.Where("elasticsearch.urls"), err)
		}
	}
	if err := elastic.CheckNamespace(c.Elasticsearch.Namespace); err != nil {
		return fmt.Errorf("%s: %w", c.Where("elasticsearch.namespace"), err)
	}
	return nil
}

// Where says where the setting at key was written: the flag, the
// environment variable, the file and key, or the plugin's key. For a
// setting left at its default it names how to set it in this front end.
func (c *Config) Where(key string) string {
	if o, ok := c.origin[key]; ok {
		return o
	}
	return c.Name(key)
}

// Name is how the setting at key is set in this front end: its flag, its
// Fluent Bit key, or its key in the file.
func (c *Config) Name(key string) string {
	for _, f := range Fields {
		if f.Key != key {
			continue
		}
		switch {
		case c.Front == Plugin && f.Plugin != "":
			return f.Plugin
		case c.Front != Plugin && f.Flag != "" && f.Fronts&c.Front != 0:
			return "--" + f.Flag
		}
	}
	return key
}

// parse reads a flag's, variable's or plugin key's text as a value of t.
func parse(t reflect.Type, raw string) (any, error) {
	switch {
	case t == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("want a duration such as 30s")
		}
		return d, nil
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want an integer")
		}
		return n, nil
	case t.Kind() == reflect.Bool:
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "true", "on", "yes", "1":
			return true, nil
		case "false", "off", "no", "0":
			return false, nil
		}
		return nil, fmt.Errorf("want on or off")
	case t.Kind() == reflect.Slice:
		var out []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return raw, nil
}

// typeAt is the type of the Config field at key; nil when there is none.
func typeAt(key string) reflect.Type {
	t, n, _ := walk(key)
	if n < len(strings.Split(key, ".")) {
		return nil
	}
	return t
}

// walk follows key's parts through Config's fields by their yaml names.
// It stops at the first part that names no field (t is then the struct
// that lacks it) or that is below a map or a list (anything goes there);
// n is the number of parts followed, unknown whether the stop was a
// missing field.
func walk(key string) (t reflect.Type, n int, unknown bool) {
	t = reflect.TypeOf(Config{})
	for _, name := range strings.Split(key, ".") {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return t, n, false
		}
		f, ok := fieldNamed(t, name)
		if !ok {
			return t, n, true
		}
		t, n = f.Type, n+1
	}
	return t, n, false
}

// valueAt is the settable value of the Config field at key.
func valueAt(c *Config, key string) reflect.Value {
	v := reflect.ValueOf(c).Elem()
	for _, name := range strings.Split(key, ".") {
		f, _ := fieldNamed(v.Type(), name)
		v = v.FieldByIndex(f.Index)
	}
	return v
}

func fieldNamed(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// known checks a key of the file against the schema: below a map or a
// list anything goes (the decoder checks lists of structs).
func known(key string) error {
	t, n, unknown := walk(key)
	if !unknown {
		return nil
	}
	parts := strings.Split(key, ".")
	msg := fmt.Sprintf("%s: unknown key", key)
	if s := closest(parts[n], t); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(append(parts[:n:n], s), "."))
	}
	return errors.New(msg)
}

// closest is the field name of t nearest to name, if one is near.
func closest(name string, t reflect.Type) string {
	best, bestD := "", 3
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if d := distance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func lookupEnv(environ func() []string, name string) string {
	for _, kv := range environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// flagValue is a flag of the table: it keeps the text given (every value,
// for a list), which Load parses with the field's type like the other
// layers' text.
type flagValue struct {
	key    string
	isBool bool
	list   bool
	def    string
	vals   []string
}

func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	if len(v.vals) > 0 {
		return v.raw()
	}
	return v.def
}

func (v *flagValue) Set(s string) error {
	if v.list {
		v.vals = append(v.vals, s)
	} else {
		v.vals = []string{s}
	}
	return nil
}

func (v *flagValue) raw() string { return strings.Join(v.vals, ",") }

// IsBoolFlag lets a boolean flag go without a value.
func (v *flagValue) IsBoolFlag() bool { return v != nil && v.isBool }

// rawBytes is a koanf provider of bytes already read.
type rawBytes []byte

func (b rawBytes) ReadBytes() ([]byte, error) { return b, nil }
func (b rawBytes) Read() (map[string]any, error) {
	return nil, errors.New("rawBytes provides bytes, not a map")
}
