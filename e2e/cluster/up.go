package main

import (
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kwok/pkg/kwokctl/pki"
)

//go:embed stages.yaml
var stagesYAML string

// controllers run by kube-controller-manager: what Jobs, owner references,
// namespaces, service accounts, nodes and Deployments (the operator's own
// chart) need to behave as on a real cluster.
var controllers = []string{
	"job-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller",
	"node-lifecycle-controller",
	"ttl-after-finished-controller",
	"pod-garbage-collector-controller",
	"deployment-controller",
	"replicaset-controller",
	"endpointslice-controller",
	"clusterrole-aggregation-controller",
}

const nodeName = "kwok-node-0"

type layout struct{ dir string }

func (l layout) path(parts ...string) string {
	return filepath.Join(append([]string{l.dir}, parts...)...)
}
func (l layout) kubeconfig() string { return l.path("kubeconfig") }
func (l layout) readyFile() string  { return l.path("ready") }
func (l layout) pidFile() string    { return l.path("supervisor.pid") }
func (l layout) logDir() string     { return l.path("logs") }

func dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", ".cluster", "state directory (kubeconfig, certificates, logs, etcd data)")
}

// runUp starts the supervisor in its own session and waits for it to report
// ready. It is idempotent: a ready control plane is left as it is.
func runUp(args []string) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := dirFlag(fs)
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for ready")
	loadTest := fs.Bool("load-test", false, "raise API server and controller limits (benchmarks)")
	wipe := fs.Bool("wipe", false, "start a new cluster: remove the state directory first")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l := layout{dir: mustAbs(*dir)}

	if pid, alive := supervisorPID(l); alive {
		if waitReady(l, *timeout, pid) == nil {
			fmt.Printf("control plane already running (pid %d); kubeconfig: %s\n", pid, l.kubeconfig())
			return 0
		}
		fmt.Fprintf(os.Stderr, "a supervisor (pid %d) runs but is not ready; run 'down' first\n", pid)
		return 1
	}

	// The same cluster again unless told otherwise: same CA, ports and etcd
	// data, so clients holding the old kubeconfig reconnect (as to a real
	// cluster whose control plane restarted).
	if *wipe {
		if err := os.RemoveAll(l.dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	_ = os.Remove(l.readyFile())
	if err := os.MkdirAll(l.logDir(), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logFile, err := os.OpenFile(filepath.Join(l.logDir(), "supervisor.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	superviseArgs := []string{"supervise", "--dir", l.dir}
	if *loadTest {
		superviseArgs = append(superviseArgs, "--load-test")
	}
	cmd := exec.Command(self, superviseArgs...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()

	start := time.Now()
	if err := waitReady(l, *timeout, pid); err != nil {
		fmt.Fprintf(os.Stderr, "control plane did not become ready: %v\nlogs: %s\n", err, l.logDir())
		tail(filepath.Join(l.logDir(), "supervisor.log"), 30)
		_ = stopSupervisor(l, pid)
		return 1
	}
	fmt.Printf("control plane ready in %.1fs; kubeconfig: %s\n", time.Since(start).Seconds(), l.kubeconfig())
	return 0
}

func runDown(args []string) int {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	dir := dirFlag(fs)
	wipe := fs.Bool("wipe", false, "also remove the state directory (etcd data, certificates, logs)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l := layout{dir: mustAbs(*dir)}
	pid, alive := supervisorPID(l)
	if !alive {
		fmt.Println("control plane not running")
		_ = os.Remove(l.readyFile())
	} else if err := stopSupervisor(l, pid); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	} else {
		fmt.Println("control plane stopped")
	}
	if *wipe {
		if err := os.RemoveAll(l.dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("state removed:", l.dir)
	}
	return 0
}

func runStatus(args []string) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	dir := dirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l := layout{dir: mustAbs(*dir)}
	if pid, alive := supervisorPID(l); alive && fileExists(l.readyFile()) {
		fmt.Printf("ready (supervisor pid %d); kubeconfig: %s\n", pid, l.kubeconfig())
		return 0
	}
	fmt.Println("not running")
	return 1
}

// stopSupervisor asks the supervisor to stop its children, then makes sure
// nothing of its process group is left.
func stopSupervisor(l layout, pid int) error {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && processAlive(pid) {
		time.Sleep(100 * time.Millisecond)
	}
	// The supervisor leads its own session and process group.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	for i := 0; i < 50 && groupAlive(pid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	_ = os.Remove(l.readyFile())
	_ = os.Remove(l.pidFile())
	if groupAlive(pid) {
		return fmt.Errorf("process group %d still alive", pid)
	}
	return nil
}

func waitReady(l layout, timeout time.Duration, pid int) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if fileExists(l.readyFile()) {
			return nil
		}
		if !processAlive(pid) {
			return errors.New("supervisor exited")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %s", timeout)
}

// ports picked once per cluster, kept in D/ports.json for the next `up`.
type ports struct {
	EtcdClient, EtcdPeer, Apiserver, ControllerManager, Scheduler, Kwok int
}

func loadOrPickPorts(l layout) (ports, error) {
	path := l.path("ports.json")
	var p ports
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &p); err == nil && p.Apiserver != 0 {
			return p, nil
		}
	}
	p, err := freePorts()
	if err != nil {
		return p, err
	}
	data, _ := json.Marshal(p)
	return p, os.WriteFile(path, data, 0o644)
}

// runSupervise starts the components in order, waits for each to be ready,
// then holds them until told to stop, restarting any that exits on its own
// and answering the control socket (control.go).
func runSupervise(args []string) int {
	fs := flag.NewFlagSet("supervise", flag.ContinueOnError)
	dir := dirFlag(fs)
	loadTest := fs.Bool("load-test", false, "raise API server and controller limits")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	l := layout{dir: mustAbs(*dir)}
	if err := os.WriteFile(l.pidFile(), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	s := newSupervisor(ctx, l)
	defer s.stopAll()

	if err := s.start(ctx, *loadTest); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 1
	}
	if err := os.WriteFile(l.readyFile(), []byte(time.Now().UTC().Format(time.RFC3339)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s.mu.Lock()
	s.live = true
	s.mu.Unlock()
	if err := s.serveControl(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Println("stopping")
	return 0
}

func (s *supervisor) start(ctx context.Context, loadTest bool) error {
	l := s.l
	p, err := loadOrPickPorts(l)
	if err != nil {
		return err
	}
	pkiDir := l.path("pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return err
	}
	if !fileExists(filepath.Join(pkiDir, "ca.crt")) {
		if err := pki.GeneratePki(pkiDir); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
	}
	ca, cert, key := filepath.Join(pkiDir, "ca.crt"), filepath.Join(pkiDir, "admin.crt"), filepath.Join(pkiDir, "admin.key")
	server := fmt.Sprintf("https://127.0.0.1:%d", p.Apiserver)
	if err := writeKubeconfig(l.kubeconfig(), server, ca, cert, key); err != nil {
		return err
	}

	if err := s.spawn("etcd",
		"--data-dir", l.path("etcd"),
		"--listen-client-url", fmt.Sprintf("http://127.0.0.1:%d", p.EtcdClient),
		"--listen-peer-url", fmt.Sprintf("http://127.0.0.1:%d", p.EtcdPeer),
	); err != nil {
		return err
	}
	if err := s.waitFor(ctx, "etcd", 60*time.Second, s.readyWhen("etcd", func() error { return dial(p.EtcdClient) })); err != nil {
		return err
	}

	apiserverArgs := []string{
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", p.EtcdClient),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", p.Apiserver),
		"--tls-cert-file=" + cert,
		"--tls-private-key-file=" + key,
		"--client-ca-file=" + ca,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + key,
		"--service-account-signing-key-file=" + key,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		"--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity,DefaultStorageClass,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,ResourceQuota",
		"--event-ttl=1h",
	}
	kcmQPS := []string{}
	if loadTest {
		apiserverArgs = append(apiserverArgs,
			"--max-requests-inflight=0",
			"--max-mutating-requests-inflight=0",
			"--enable-priority-and-fairness=false",
		)
		kcmQPS = []string{"--kube-api-qps=1000", "--kube-api-burst=2000", "--concurrent-job-syncs=50", "--concurrent-gc-syncs=50"}
	}
	if err := s.spawn("kube-apiserver", apiserverArgs...); err != nil {
		return err
	}
	client, err := clientFor(l.kubeconfig())
	if err != nil {
		return err
	}
	if err := s.waitFor(ctx, "kube-apiserver", 90*time.Second, s.readyWhen("kube-apiserver", func() error {
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(body)) != "ok" {
			return errors.New(string(body))
		}
		_, err = client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
		return err
	})); err != nil {
		return err
	}

	kcmArgs := append([]string{
		"--kubeconfig=" + l.kubeconfig(),
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", p.ControllerManager),
		"--leader-elect=false",
		"--root-ca-file=" + ca,
		"--service-account-private-key-file=" + key,
		"--use-service-account-credentials=false",
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
		"--authentication-skip-lookup=true",
		"--controllers=" + strings.Join(controllers, ","),
		// Nodes are fake and never go away: don't evict on a late heartbeat.
		"--node-monitor-grace-period=1h",
	}, kcmQPS...)
	if err := s.spawn("kube-controller-manager", kcmArgs...); err != nil {
		return err
	}
	if err := s.spawn("kube-scheduler",
		"--kubeconfig="+l.kubeconfig(),
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", p.Scheduler),
		"--leader-elect=false",
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
		"--authentication-skip-lookup=true",
	); err != nil {
		return err
	}
	for name, port := range map[string]int{"kube-controller-manager": p.ControllerManager, "kube-scheduler": p.Scheduler} {
		if err := s.waitFor(ctx, name, 60*time.Second, s.readyWhen(name, func() error { return httpsOK(port, "/healthz") })); err != nil {
			return err
		}
	}

	kwokConfig := l.path("kwok.yaml")
	if err := os.WriteFile(kwokConfig, []byte(stagesYAML), 0o644); err != nil {
		return err
	}
	if err := s.spawn("kwok",
		"--kubeconfig="+l.kubeconfig(),
		"--config="+kwokConfig,
		"--manage-all-nodes=true",
		fmt.Sprintf("--server-address=127.0.0.1:%d", p.Kwok),
		"--cidr=10.244.0.1/16",
	); err != nil {
		return err
	}
	if err := createNode(ctx, client); err != nil {
		return err
	}
	if err := s.waitFor(ctx, "node Ready", 60*time.Second, func() error { return nodeReady(ctx, client) }); err != nil {
		return err
	}
	return s.waitFor(ctx, "service account default/default", 60*time.Second, func() error {
		_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

func createNode(ctx context.Context, client kubernetes.Interface) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("5000"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        nodeName,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": nodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	_, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func nodeReady(ctx context.Context, client kubernetes.Interface) error {
	node, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			for _, t := range node.Spec.Taints {
				if t.Key == "node.kubernetes.io/not-ready" {
					return errors.New("not-ready taint still set")
				}
			}
			return nil
		}
	}
	return errors.New("node not Ready yet")
}

func writeKubeconfig(path, server, ca, cert, key string) error {
	read := func(p string) ([]byte, error) { return os.ReadFile(p) }
	caData, err := read(ca)
	if err != nil {
		return err
	}
	certData, err := read(cert)
	if err != nil {
		return err
	}
	keyData, err := read(key)
	if err != nil {
		return err
	}
	// Embedded data: the file works from any directory and can be copied.
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: conveyor-local
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: conveyor-local
  context: {cluster: conveyor-local, user: admin, namespace: default}
current-context: conveyor-local
`, server, b64(caData), b64(certData), b64(keyData))
	return os.WriteFile(path, []byte(content), 0o600)
}

func clientFor(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 5 * time.Second
	return kubernetes.NewForConfig(cfg)
}

func httpsOK(port int, path string) error {
	c := http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health probe of a component's self-signed port
	}
	resp, err := c.Get(fmt.Sprintf("https://127.0.0.1:%d%s", port, path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return nil
}

func dial(port int) error {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return err
	}
	return conn.Close()
}

func freePorts() (ports, error) {
	var got []int
	var listeners []net.Listener
	defer func() {
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}()
	for i := 0; i < 6; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return ports{}, err
		}
		listeners = append(listeners, ln)
		got = append(got, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports{got[0], got[1], got[2], got[3], got[4], got[5]}, nil
}

func supervisorPID(l layout) (int, bool) {
	data, err := os.ReadFile(l.pidFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, false
	}
	return pid, processAlive(pid)
}

func processAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	// A zombie is not alive.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat))
	return len(fields) < 3 || fields[2] != "Z"
}

func groupAlive(pgid int) bool { return syscall.Kill(-pgid, 0) == nil }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

func tail(path string, n int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Fprintln(os.Stderr, strings.Join(lines, "\n"))
}
