// Command conveyor-cluster is a whole Kubernetes control plane in one binary,
// for tests and `make up` on machines without a container engine.
//
// Each component runs as its own process (this binary re-executed with a
// subcommand): the API server's signal handling may be set up only once per
// process. `up` starts them all under a supervisor and writes a kubeconfig;
// `down` stops the supervisor, which stops its children. While it runs, the
// supervisor restarts a component that exits and takes commands on a unix
// socket (control.go) to stop, start, restart or pause one.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"

	_ "k8s.io/client-go/plugin/pkg/client/auth"           // kubectl auth plugins
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream binaries
	_ "time/tzdata"                                       // CronJob time zones without system tzdata
)

const usage = `usage: conveyor-cluster COMMAND [flags]

  up        start the control plane in the background and wait until it is ready
            (the same cluster again on the same --dir; --wipe: a new one)
  down      stop everything 'up' started (--wipe: and remove its state)
  status    exit 0 when the control plane in --dir is ready
  components                      each component's state (running, paused, stopped)
  stop | start | restart COMPONENT  one component, while the others run
  pause COMPONENT --for 20s       SIGSTOP it for that long (resume COMPONENT: earlier)
  etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kwok | kubectl
            run one component in the foreground (flags pass through)
  version   print the Kubernetes version this binary was built from
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	sub := os.Args[1]
	// Components parse os.Args themselves (cobra, kwok's config flags): make
	// the subcommand look like the program name.
	os.Args = append([]string{os.Args[0]}, os.Args[2:]...)

	switch sub {
	case "up":
		os.Exit(runUp(os.Args[1:]))
	case "down":
		os.Exit(runDown(os.Args[1:]))
	case "status":
		os.Exit(runStatus(os.Args[1:]))
	case "stop", "start", "restart", "pause", "resume", "components":
		os.Exit(runControl(sub, os.Args[1:]))
	case "supervise":
		os.Exit(runSupervise(os.Args[1:]))
	case "etcd":
		os.Exit(runEtcd(os.Args[1:]))
	case "kube-apiserver":
		os.Exit(runCobra(apiserver.NewAPIServerCommand()))
	case "kube-controller-manager":
		os.Exit(runCobra(controllermanager.NewControllerManagerCommand()))
	case "kube-scheduler":
		os.Exit(runCobra(scheduler.NewSchedulerCommand()))
	case "kwok":
		os.Exit(runKwok())
	case "kubectl":
		runKubectl()
	case "version":
		fmt.Println(kubeVersion)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", sub, usage)
		os.Exit(2)
	}
}

func runCobra(command *cobra.Command) int {
	command.SetArgs(os.Args[1:])
	return cli.Run(command)
}

func runKubectl() {
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) //nolint:errcheck
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
}
