package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SyncConfig says what to download.
type SyncConfig struct {
	Dashboard  string   // default DefaultDashboard
	Namespaces []string // default DefaultNamespaces
	UserAgent  string   // names the tool; required by the dashboard's etiquette
	Timeout    time.Duration
	Tries      int                 // attempts per list (default 3)
	Client     *http.Client        // default: one with Timeout
	Previous   *Index              // lists not modified since are reused (conditional requests)
	Progress   func(string)        // called before each download, may be nil
	Now        func() time.Time    // default time.Now
	sleep      func(time.Duration) // tests
}

// maxList bounds a list's size: the largest namespaces list tens of
// thousands of bugs in a few MB.
const maxList = 256 << 20

// Sync downloads the open and fixed bug lists of each namespace, once each,
// and returns the new index. Any failure is an error and no index: the
// caller keeps the previous one.
func Sync(ctx context.Context, cfg SyncConfig) (*Index, error) {
	if cfg.Dashboard == "" {
		cfg.Dashboard = DefaultDashboard
	}
	cfg.Dashboard = strings.TrimRight(cfg.Dashboard, "/")
	if u, err := url.Parse(cfg.Dashboard); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("dashboard URL %q: want http(s)://host", cfg.Dashboard)
	}
	if len(cfg.Namespaces) == 0 {
		cfg.Namespaces = DefaultNamespaces
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.Tries <= 0 {
		cfg.Tries = 3
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.sleep == nil {
		cfg.sleep = func(d time.Duration) {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
	}
	x := &Index{Version: indexVersion, Dashboard: cfg.Dashboard, Namespaces: cfg.Namespaces, Lists: map[string]*List{}}
	for _, ns := range cfg.Namespaces {
		if ns == "" || strings.ContainsAny(ns, "/?#& ") {
			return nil, fmt.Errorf("namespace %q: not a syzbot namespace name", ns)
		}
		for _, status := range []string{Open, Fixed} {
			l, err := cfg.fetch(ctx, ns, status)
			if err != nil {
				return nil, err
			}
			x.Lists[ns+"/"+status] = l
		}
	}
	x.build(x.Namespaces)
	return x, nil
}

// listURL is the JSON form of a namespace's open or fixed list.
func (cfg *SyncConfig) listURL(ns, status string) string {
	if status == Fixed {
		return cfg.Dashboard + "/" + ns + "/fixed?json=1"
	}
	return cfg.Dashboard + "/" + ns + "?json=1"
}

// fetch downloads one list, retrying failures that may pass with backoff.
func (cfg *SyncConfig) fetch(ctx context.Context, ns, status string) (*List, error) {
	u := cfg.listURL(ns, status)
	var prev *List
	if cfg.Previous != nil && cfg.Previous.Dashboard == cfg.Dashboard {
		prev = cfg.Previous.Lists[ns+"/"+status]
	}
	if cfg.Progress != nil {
		cfg.Progress(fmt.Sprintf("%s %s bugs", ns, status))
	}
	var last error
	for try := 1; try <= cfg.Tries; try++ {
		l, retry, err := cfg.get(ctx, u, ns, status, prev)
		if err == nil {
			return l, nil
		}
		last = err
		if !retry || ctx.Err() != nil {
			break
		}
		if try < cfg.Tries {
			cfg.sleep(time.Duration(1<<(try-1)) * time.Second)
		}
	}
	return nil, last
}

// listJSON is the dashboard's bug list (API version 1): note "Bugs".
type listJSON struct {
	Version int `json:"version"`
	Bugs    []struct {
		Title      string `json:"title"`
		Link       string `json:"link"`
		FixCommits []struct {
			Title string `json:"title"`
			Hash  string `json:"hash"`
			Link  string `json:"link"`
		} `json:"fix-commits"`
	} `json:"Bugs"`
}

func (cfg *SyncConfig) get(ctx context.Context, u, ns, status string, prev *List) (*List, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", u, err)
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	if prev != nil {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && prev != nil:
		l := *prev
		l.Fetched = cfg.Now().UTC()
		return &l, false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, true, fmt.Errorf("%s: %s", u, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, false, fmt.Errorf("%s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxList+1))
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", u, err)
	}
	if len(body) > maxList {
		return nil, false, fmt.Errorf("%s: the list is larger than %d MB", u, maxList>>20)
	}
	var lj listJSON
	if err := json.Unmarshal(body, &lj); err != nil {
		return nil, false, fmt.Errorf("%s: not a syzbot bug list: %w", u, err)
	}
	if lj.Version != 1 {
		return nil, false, fmt.Errorf("%s: dashboard API version %d, this oopsflow reads version 1", u, lj.Version)
	}
	if lj.Bugs == nil {
		return nil, false, errors.New(u + ": not a syzbot bug list: no \"Bugs\"")
	}
	l := &List{Namespace: ns, Status: status, Fetched: cfg.Now().UTC(), ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	for _, b := range lj.Bugs {
		if b.Title == "" {
			continue
		}
		bug := &Bug{Title: b.Title, Link: cfg.absolute(b.Link)}
		for _, c := range b.FixCommits {
			bug.FixCommits = append(bug.FixCommits, Commit{Title: c.Title, Hash: c.Hash, Link: c.Link})
		}
		l.Bugs = append(l.Bugs, bug)
	}
	return l, false, nil
}

// absolute makes a dashboard link absolute.
func (cfg *SyncConfig) absolute(link string) string {
	if link == "" || strings.HasPrefix(link, "http://") || strings.HasPrefix(link, "https://") {
		return link
	}
	if !strings.HasPrefix(link, "/") {
		link = "/" + link
	}
	return cfg.Dashboard + link
}
