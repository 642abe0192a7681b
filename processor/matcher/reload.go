package matcher

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Reloader keeps a Matcher's signatures in step with their sources: on a
// signal (SIGHUP in consume) and when a file in a user directory changes,
// it loads the whole set again and swaps it in, or, when the new set does
// not load, keeps the old one and says why. Reports being matched at the
// moment of a swap finish with the set they started with.
type Reloader struct {
	M       *Matcher
	Sources Sources
	Log     *slog.Logger
	// Debounce is how long the directories must stay quiet after a change
	// before the set is loaded (an editor writes a file in steps; a
	// Kubernetes ConfigMap update swaps a symbolic link). Default 500ms.
	Debounce time.Duration
	// Loaded is called after every successful load (the first included),
	// Failed after every failed one; either may be nil.
	Loaded func(*Set)
	Failed func(error)

	mu      sync.Mutex
	current *Set
}

// Load loads the set and swaps it in. On failure the matcher keeps what it
// had and the error is returned (and reported to Failed).
func (r *Reloader) Load() (*Set, error) {
	set, err := LoadSet(r.Sources)
	if err != nil {
		if r.Failed != nil {
			r.Failed(err)
		}
		return nil, err
	}
	r.M.Swap(set.Signatures)
	if r.Log != nil {
		for _, w := range set.Warnings {
			r.Log.Warn("signatures", "warning", w)
		}
	}
	r.mu.Lock()
	r.current = set
	r.mu.Unlock()
	if r.Loaded != nil {
		r.Loaded(set)
	}
	return set, nil
}

// Current returns the set in use (nil before the first Load).
func (r *Reloader) Current() *Set {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

// Run watches the user directories (and the directories below them, where
// examples live) and reloads after changes, and on every value from hup,
// until ctx ends. With no user directory it only waits for hup.
func (r *Reloader) Run(ctx context.Context, hup <-chan os.Signal) error {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	debounce := r.Debounce
	if debounce <= 0 {
		debounce = 500 * time.Millisecond
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	var w *fsnotify.Watcher
	if len(r.Sources.Dirs) > 0 {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			return err
		}
		defer w.Close()
		for _, d := range r.Sources.Dirs {
			watchTree(w, d, log)
		}
		events, errs = w.Events, w.Errors
	}
	var timer *time.Timer
	var fire <-chan time.Time
	reload := func(why string) {
		if set, err := r.Load(); err != nil {
			log.Error("signatures not reloaded: the set in use stays", "why", why, "err", err)
		} else {
			log.Info("signatures reloaded", "why", why, "signatures", len(set.Signatures), "hash", set.Hash)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			reload("signal")
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if ev.Op&fsnotify.Create != 0 {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					watchTree(w, ev.Name, log) // a new examples directory
				}
			}
			if timer == nil {
				timer = time.NewTimer(debounce)
			} else {
				timer.Reset(debounce)
			}
			fire = timer.C
		case err, ok := <-errs:
			if ok {
				log.Warn("watching the signature directories", "err", err)
			}
		case <-fire:
			fire = nil
			reload("files changed")
		}
	}
}

// watchTree watches dir and every directory below it.
func watchTree(w *fsnotify.Watcher, dir string, log *slog.Logger) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error { //nolint:errcheck // logged per directory
		if err != nil || !d.IsDir() {
			return nil
		}
		if err := w.Add(p); err != nil {
			log.Warn("cannot watch a signature directory", "dir", p, "err", err)
		}
		return nil
	})
}
