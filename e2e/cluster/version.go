package main

import "encoding/base64"

// kubeVersion is set at build time from KUBE_VERSION (see the Makefile).
var kubeVersion = "unknown"

func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }
