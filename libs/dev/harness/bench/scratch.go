package bench

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/triage-pipeline/triage/libs/dev/natsembed"
)

// scratchNATS starts a NATS server with the pipeline's settings on a free
// port, storing into a new temporary directory (its JetStream files under
// jetstream/); stop shuts it down and removes the directory.
func scratchNATS(prefix string) (srv *server.Server, dir string, stop func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return nil, "", nil, fmt.Errorf("temp dir: %w", err)
	}
	srv, err = natsembed.Start(natsembed.Options{Port: -1, StoreDir: filepath.Join(dir, "jetstream")})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	return srv, dir, func() {
		srv.Shutdown()
		srv.WaitForShutdown()
		os.RemoveAll(dir)
	}, nil
}
