package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one running component process.
type child struct {
	name     string
	cmd      *exec.Cmd
	done     chan struct{}
	expected bool // its exit was asked for (stop, restart, down)
	paused   bool
	started  time.Time
}

// supervisor runs the components. Once the control plane is ready, a
// component that exits on its own is started again (as the kubelet restarts
// a static pod), and the control socket can stop, start, restart, pause and
// resume one component while the others run.
type supervisor struct {
	l      layout
	died   chan string // deaths while starting up: those fail `up`
	mu     sync.Mutex
	order  []string                // start order
	args   map[string][]string     // how each component is started
	checks map[string]func() error // when each component is ready
	kids   map[string]*child       // running (or paused) components
	held   map[string]bool         // stopped on purpose: not restarted
	resume map[string]*time.Timer  // pending end of a pause
	live   bool                    // past startup: restart what exits
	ctx    context.Context         // the supervisor's life
}

func newSupervisor(ctx context.Context, l layout) *supervisor {
	return &supervisor{
		l: l, died: make(chan string, 8), ctx: ctx,
		args: map[string][]string{}, checks: map[string]func() error{},
		kids: map[string]*child{}, held: map[string]bool{}, resume: map[string]*time.Timer{},
	}
}

// spawn starts a component for the first time and remembers how.
func (s *supervisor) spawn(name string, args ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.order = append(s.order, name)
	s.args[name] = args
	return s.startLocked(name)
}

func (s *supervisor) startLocked(name string) error {
	if _, running := s.kids[name]; running {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// Appended to: a component's log keeps every run of it.
	logFile, err := os.OpenFile(filepath.Join(s.l.logDir(), name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(self, append([]string{name}, s.args[name]...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Children die with the supervisor even when it is killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), started: time.Now()}
	s.kids[name] = c
	delete(s.held, name)
	go s.reap(c, logFile)
	fmt.Printf("started %s (pid %d)\n", name, cmd.Process.Pid)
	return nil
}

// reap waits for a child's exit; an exit nobody asked for is reported
// (during startup) or answered with a restart (afterwards).
func (s *supervisor) reap(c *child, logFile *os.File) {
	err := c.cmd.Wait()
	_ = logFile.Close()
	s.mu.Lock()
	if s.kids[c.name] == c {
		delete(s.kids, c.name)
	}
	expected, live := c.expected, s.live
	s.mu.Unlock()
	close(c.done)
	if expected {
		return
	}
	fmt.Fprintf(os.Stderr, "%s exited (%v)\n", c.name, err)
	if !live {
		select {
		case s.died <- c.name:
		default:
		}
		return
	}
	// Back off when it keeps failing; at once after a long healthy run.
	delay := time.Second
	if time.Since(c.started) < 10*time.Second {
		delay = 5 * time.Second
	}
	time.AfterFunc(delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ctx.Err() != nil || s.held[c.name] {
			return
		}
		if err := s.startLocked(c.name); err != nil {
			fmt.Fprintln(os.Stderr, "restart:", err)
		}
	})
}

// waitFor polls check until it succeeds, a child dies, or time runs out.
func (s *supervisor) waitFor(ctx context.Context, what string, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if last = check(); last == nil {
			fmt.Printf("%s ready\n", what)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case name := <-s.died:
			return fmt.Errorf("%s exited while waiting for %s (see %s)", name, what, filepath.Join(s.l.logDir(), name+".log"))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after %s: %v", what, timeout, last)
}

// stopOne ends a component with SIGTERM and, after 5 s, SIGKILL; it is
// not restarted until started again. A paused one is continued first.
func (s *supervisor) stopOne(name string) error {
	s.mu.Lock()
	c, running := s.kids[name]
	if _, known := s.args[name]; !known {
		s.mu.Unlock()
		return fmt.Errorf("unknown component %q", name)
	}
	s.held[name] = true
	if t := s.resume[name]; t != nil {
		t.Stop()
		delete(s.resume, name)
	}
	if !running {
		s.mu.Unlock()
		return nil
	}
	c.expected = true
	s.mu.Unlock()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	_ = c.cmd.Process.Signal(syscall.SIGCONT)
	// The API server can take longer to drain its watches; a test that
	// restarts it wants an outage of seconds, as a crashed one would give.
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	return nil
}

// startOne starts a stopped component and waits until it is ready.
func (s *supervisor) startOne(name string) error {
	s.mu.Lock()
	if _, known := s.args[name]; !known {
		s.mu.Unlock()
		return fmt.Errorf("unknown component %q", name)
	}
	err := s.startLocked(name)
	check := s.checks[name]
	s.mu.Unlock()
	if err != nil || check == nil {
		return err
	}
	return s.waitFor(s.ctx, name, 90*time.Second, check)
}

// pause stops a component's process (SIGSTOP) for d, as a hung node or a
// stalled disk would: its connections stay open and nothing answers.
func (s *supervisor) pause(name string, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, running := s.kids[name]
	if !running {
		return fmt.Errorf("%s is not running", name)
	}
	if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	c.paused = true
	if t := s.resume[name]; t != nil {
		t.Stop()
	}
	s.resume[name] = time.AfterFunc(d, func() { _ = s.resumeOne(name) })
	return nil
}

func (s *supervisor) resumeOne(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.resume[name]; t != nil {
		t.Stop()
		delete(s.resume, name)
	}
	c, running := s.kids[name]
	if !running {
		return fmt.Errorf("%s is not running", name)
	}
	c.paused = false
	return c.cmd.Process.Signal(syscall.SIGCONT)
}

func (s *supervisor) status() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for _, name := range s.order {
		c, running := s.kids[name]
		switch {
		case !running && s.held[name]:
			lines = append(lines, name+" stopped")
		case !running:
			lines = append(lines, name+" restarting")
		case c.paused:
			lines = append(lines, fmt.Sprintf("%s paused (pid %d)", name, c.cmd.Process.Pid))
		default:
			lines = append(lines, fmt.Sprintf("%s running (pid %d)", name, c.cmd.Process.Pid))
		}
	}
	return lines
}

// stopAll ends the children in reverse start order.
func (s *supervisor) stopAll() {
	_ = os.Remove(s.l.readyFile())
	s.mu.Lock()
	order := append([]string(nil), s.order...)
	s.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		_ = s.stopOne(order[i])
	}
	_ = os.Remove(s.l.pidFile())
}

// control runs one command from the control socket; the reply's lines.
func (s *supervisor) control(line string) ([]string, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil, errors.New("empty command")
	}
	verb, rest := fields[0], fields[1:]
	if verb == "status" {
		return s.status(), nil
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("%s: which component? (%s)", verb, strings.Join(s.sortedNames(), ", "))
	}
	name := rest[0]
	start := time.Now()
	var err error
	switch verb {
	case "stop":
		err = s.stopOne(name)
	case "start":
		err = s.startOne(name)
	case "restart":
		if err = s.stopOne(name); err == nil {
			err = s.startOne(name)
		}
	case "pause":
		if len(rest) < 2 {
			return nil, errors.New("pause: how long? (--for 20s)")
		}
		var d time.Duration
		if d, err = time.ParseDuration(rest[1]); err == nil {
			err = s.pause(name, d)
		}
	case "resume":
		err = s.resumeOne(name)
	default:
		return nil, fmt.Errorf("unknown command %q", verb)
	}
	if err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("%s %s: done in %.1fs", verb, name, time.Since(start).Seconds())}, nil
}

func (s *supervisor) sortedNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.args))
	for name := range s.args {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// readyWhen records how to tell that a component is ready (for start and
// restart) and returns the check.
func (s *supervisor) readyWhen(name string, check func() error) func() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = check
	return check
}
