package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// The control socket: `conveyor-cluster stop|start|restart|pause|resume
// COMPONENT --dir D` and `components --dir D` send one line to the running
// supervisor and print its reply. The last line of a reply is "ok" or
// "error: ...".

func (l layout) socket() string { return l.path("control.sock") }

// serveControl answers commands until ctx ends.
func (s *supervisor) serveControl(ctx context.Context) error {
	_ = os.Remove(s.l.socket())
	ln, err := net.Listen("unix", s.l.socket())
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	go func() {
		<-ctx.Done()
		_ = ln.Close()
		_ = os.Remove(s.l.socket())
	}()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.answer(conn)
		}
	}()
	return nil
}

func (s *supervisor) answer(conn net.Conn) {
	defer conn.Close()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	fmt.Printf("control: %s", line)
	lines, err := s.control(strings.TrimSpace(line))
	for _, l := range lines {
		fmt.Fprintln(conn, l)
	}
	if err != nil {
		fmt.Printf("control: error: %v\n", err)
		fmt.Fprintf(conn, "error: %v\n", err)
		return
	}
	fmt.Fprintln(conn, "ok")
}

// runControl is the client side: `conveyor-cluster VERB [COMPONENT] --dir D [--for 20s]`.
func runControl(verb string, args []string) int {
	var component string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		component, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	dir := dirFlag(fs)
	pauseFor := fs.Duration("for", 0, "pause: how long the component stays stopped")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if component == "" && fs.NArg() > 0 {
		component = fs.Arg(0)
	}
	if verb != "components" && component == "" {
		fmt.Fprintf(os.Stderr, "usage: conveyor-cluster %s COMPONENT --dir D\n", verb)
		return 2
	}
	command := verb + " " + component
	switch verb {
	case "components":
		command = "status"
	case "pause":
		if *pauseFor <= 0 {
			fmt.Fprintln(os.Stderr, "pause needs --for, e.g. --for 20s")
			return 2
		}
		command += " " + pauseFor.String()
	}
	l := layout{dir: mustAbs(*dir)}
	conn, err := net.DialTimeout("unix", l.socket(), 5*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "no control plane running in %s: %v\n", l.dir, err)
		return 1
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Minute))
	fmt.Fprintln(conn, command)
	scanner := bufio.NewScanner(conn)
	code := 1
	for scanner.Scan() {
		text := scanner.Text()
		switch {
		case text == "ok":
			code = 0
		case strings.HasPrefix(text, "error: "):
			fmt.Fprintln(os.Stderr, text)
		default:
			fmt.Println(text)
		}
	}
	return code
}
