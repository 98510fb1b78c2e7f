// CoreDNS for the local node (scripts/lib/node.sh): the upstream coremain with only the plugins the
// cluster's Corefile uses, so the build skips the cloud providers' SDKs (minutes on 2 cores). The
// module version comes from scripts/lib/node.sh (SLUICE_COREDNS_VERSION).
package main

import (
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"

	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
