package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
)

// tokensCmd is the operators' way to issue, list and revoke people's
// tokens, straight on the tokens bucket (the first admin token of a new
// deployment comes from here; later ones also from the admin page).
type tokensCmd struct {
	NATSURL        string         `name:"nats-url" env:"TRIAGE_NATS_URL" default:"nats://127.0.0.1:4222" help:"NATS server URL."`
	StreamReplicas int            `name:"stream-replicas" env:"TRIAGE_STREAM_REPLICAS" default:"1" help:"Replicas of the buckets, if this creates them."`
	Timeout        time.Duration  `default:"30s" help:"How long the command may take."`
	Issue          tokenIssueCmd  `cmd:"" help:"Issue a token; it is printed once and never stored."`
	List           tokenListCmd   `cmd:"" help:"List tokens (never their secrets)."`
	Revoke         tokenRevokeCmd `cmd:"" help:"Revoke a token at once, on every replica."`
}

type tokenIssueCmd struct {
	Name string        `required:"" help:"The person the token is for."`
	Role string        `required:"" enum:"support,engineer,admin,monitoring" help:"support, engineer, admin, or monitoring (a system that only reports alerts: Alertmanager)."`
	TTL  time.Duration `name:"ttl" default:"2160h" help:"How long it is valid (default 90 days)."`
}

func (c *tokensCmd) store() (context.Context, *auth.Store, func(), error) {
	ctx, js, done, err := operatorConn(c.NATSURL, c.Timeout, "triage-tokens")
	if err != nil {
		return nil, nil, nil, err
	}
	topo := bus.DefaultTopology()
	topo.Replicas = c.StreamReplicas
	s, err := auth.Open(ctx, js, topo)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return ctx, s, done, nil
}

func (c *tokenIssueCmd) Run(parent *tokensCmd) error {
	ctx, s, done, err := parent.store()
	if err != nil {
		return err
	}
	defer done()
	text, rec, err := s.Issue(ctx, c.Name, auth.Role(c.Role), c.TTL, "triage tokens")
	if err != nil {
		return err
	}
	fmt.Printf("token for %s (%s, id %s, expires %s):\n%s\n", rec.Name, rec.Role, rec.ID, rec.ExpiresAt.Format(time.RFC3339), text)
	return nil
}

type tokenListCmd struct {
	JSON bool `help:"Print JSON instead of a table."`
}

func (c *tokenListCmd) Run(parent *tokensCmd) error {
	ctx, s, done, err := parent.store()
	if err != nil {
		return err
	}
	defer done()
	list, err := s.List(ctx)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].SecretHash = ""
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tSTATE")
	now := time.Now()
	for _, t := range list {
		state := "active"
		if err := t.Usable(now); err != nil {
			state = "expired"
			if t.RevokedAt != nil {
				state = "revoked by " + t.RevokedBy
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), t.ExpiresAt.Format(time.RFC3339), state)
	}
	return tw.Flush()
}

type tokenRevokeCmd struct {
	ID string `arg:"" help:"Token id (from list)."`
}

func (c *tokenRevokeCmd) Run(parent *tokensCmd) error {
	ctx, s, done, err := parent.store()
	if err != nil {
		return err
	}
	defer done()
	t, err := s.Revoke(ctx, c.ID, "triage tokens")
	if err != nil {
		return err
	}
	fmt.Printf("revoked token %s (%s)\n", t.ID, t.Name)
	return nil
}
