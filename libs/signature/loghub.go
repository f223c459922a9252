package signature

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// structuredSuffix names a LogHub sample's labelled file:
// <Name>/<Name>_2k.log_structured.csv.
const structuredSuffix = ".log_structured.csv"

// DatasetScore is the Grouping Accuracy on one labelled dataset.
type DatasetScore struct {
	Name        string  // the dataset's folder name
	Messages    int     // messages evaluated
	Groups      int     // groups the Miner found
	TruthGroups int     // ground-truth event ids
	GA          float64 // Grouping Accuracy, 0..1
}

// Evaluation is the Grouping Accuracy over every dataset found.
type Evaluation struct {
	Datasets []DatasetScore // sorted by name
	Mean     float64        // unweighted mean of the datasets' GA
}

// EvaluateLogHub mines every LogHub sample under dir (each folder holding a
// *_structured.csv with Content and EventId columns) with this Miner's one
// configuration and scores it against the EventId labels.
func (m *Miner) EvaluateLogHub(ctx context.Context, dir string) (Evaluation, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "*"+structuredSuffix))
	if err != nil {
		return Evaluation{}, fmt.Errorf("list loghub datasets in %s: %w", dir, err)
	}
	if len(files) == 0 {
		return Evaluation{}, fmt.Errorf("no */*%s under %s", structuredSuffix, dir)
	}
	slices.Sort(files)
	var ev Evaluation
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return Evaluation{}, fmt.Errorf("evaluate loghub: %w", err)
		}
		score, err := m.evaluateFile(file)
		if err != nil {
			return Evaluation{}, err
		}
		ev.Datasets = append(ev.Datasets, score)
		ev.Mean += score.GA
	}
	ev.Mean /= float64(len(ev.Datasets))
	return ev, nil
}

func (m *Miner) evaluateFile(file string) (DatasetScore, error) {
	msgs, truth, err := readStructured(file)
	if err != nil {
		return DatasetScore{}, err
	}
	sigs := m.Mine(msgs)
	predicted := make([]string, len(sigs))
	for i, s := range sigs {
		predicted[i] = s.ID
	}
	ga, err := GroupingAccuracy(predicted, truth)
	if err != nil {
		return DatasetScore{}, fmt.Errorf("score %s: %w", file, err)
	}
	return DatasetScore{
		Name:        filepath.Base(filepath.Dir(file)),
		Messages:    len(msgs),
		Groups:      countDistinct(predicted),
		TruthGroups: countDistinct(truth),
		GA:          ga,
	}, nil
}

// readStructured reads the Content and EventId columns of a LogHub
// structured CSV.
func readStructured(file string) (contents, eventIDs []string, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, fmt.Errorf("open loghub dataset: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read header of %s: %w", file, err)
	}
	content, event := slices.Index(header, "Content"), slices.Index(header, "EventId")
	if content < 0 || event < 0 {
		return nil, nil, fmt.Errorf("%s: header %q lacks Content or EventId", file, strings.Join(header, ","))
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", file, err)
		}
		contents = append(contents, rec[content])
		eventIDs = append(eventIDs, rec[event])
	}
	return contents, eventIDs, nil
}

// GroupingAccuracy is the LogPAI benchmark's metric (Zhu et al., ICSE-SEIP
// 2019): a message is correct when the set of messages in its predicted
// group equals the set in its ground-truth group; GA is the share of correct
// messages. predicted and truth hold a group label per message.
func GroupingAccuracy(predicted, truth []string) (float64, error) {
	if len(predicted) != len(truth) {
		return 0, fmt.Errorf("grouping accuracy: %d predicted labels for %d messages", len(predicted), len(truth))
	}
	if len(truth) == 0 {
		return 0, errors.New("grouping accuracy: no messages")
	}
	type pair struct{ p, t string }
	predSize := make(map[string]int)
	truthSize := make(map[string]int)
	joint := make(map[pair]int)
	for i := range truth {
		predSize[predicted[i]]++
		truthSize[truth[i]]++
		joint[pair{predicted[i], truth[i]}]++
	}
	// A predicted group is exact when it is wholly one truth group and that
	// truth group has no members elsewhere.
	correct := 0
	for k, n := range joint {
		if n == predSize[k.p] && n == truthSize[k.t] {
			correct += n
		}
	}
	return float64(correct) / float64(len(truth)), nil
}

func countDistinct(labels []string) int {
	seen := make(map[string]struct{}, len(labels))
	for _, l := range labels {
		seen[l] = struct{}{}
	}
	return len(seen)
}
