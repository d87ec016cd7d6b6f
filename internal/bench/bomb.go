package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/careloop/careloop/internal/loadgen"
	"github.com/careloop/careloop/internal/testkit/xlsxbomb"
)

func init() {
	Scenarios = append(Scenarios, Scenario{"import-bomb", "cli.bench.import-bomb", runImportBomb})
}

// BombResult reports one refused bomb.
type BombResult struct {
	Kind          string  `json:"kind"`
	FileBytes     int     `json:"file_bytes"`
	UnpackedBytes int     `json:"unpacked_bytes"`
	Status        int     `json:"status"`
	Detail        string  `json:"detail"`
	AnswerMS      float64 `json:"answer_ms"`
}

// ImportBombResult reports the import-bomb scenario.
type ImportBombResult struct {
	Scenario     string       `json:"scenario"`
	Bombs        []BombResult `json:"bombs"`
	IdleRSSBytes int64        `json:"idle_rss_bytes"`
	PeakRSSBytes int64        `json:"peak_rss_bytes"` // the server's VmHWM after both
}

func runImportBomb(ctx context.Context, e Env, o Options) (any, error) {
	const unpacked = 900 << 20
	bombs := []struct {
		kind string
		data []byte
	}{
		{"sheet", xlsxbomb.SheetBomb(unpacked)},
		{"shared-strings", xlsxbomb.StringsBomb(unpacked)},
	}
	rig, err := NewRig(ctx, e, "bench@example.com", "supervisor")
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	srv := rig.Server
	out := ImportBombResult{Scenario: "import-bomb"}
	time.Sleep(time.Second) // let the server settle before the idle figure
	out.IdleRSSBytes, _, _ = loadgen.ReadRSS(srv.PID())
	client := &http.Client{Timeout: 5 * time.Minute}
	for _, b := range bombs {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "bomb-"+b.kind+".xlsx")
		_, _ = fw.Write(b.data)
		_ = mw.Close()
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.BaseURL+"/api/v1/customers/import?dry_run=true", &body)
		req.Header.Set("Authorization", "Bearer "+rig.Token)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("import-bomb: %s: %w", b.kind, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := BombResult{Kind: b.kind, FileBytes: len(b.data), UnpackedBytes: unpacked, Status: resp.StatusCode,
			AnswerMS: float64(time.Since(start).Microseconds()) / 1000}
		var p struct {
			Errors []struct{ Message string } `json:"errors"`
		}
		if json.Unmarshal(raw, &p) == nil && len(p.Errors) > 0 {
			r.Detail = p.Errors[0].Message
		}
		if resp.StatusCode != http.StatusBadRequest {
			return nil, fmt.Errorf("import-bomb: %s answered %d: %s", b.kind, resp.StatusCode, raw)
		}
		out.Bombs = append(out.Bombs, r)
		fmt.Fprintf(e.Out, "import-bomb: %s bomb (%.1f MB, %d MB unpacked): %d in %.1f ms: %s\n",
			b.kind, float64(len(b.data))/(1<<20), unpacked>>20, r.Status, r.AnswerMS, r.Detail)
	}
	_, out.PeakRSSBytes, _ = loadgen.ReadRSS(srv.PID())
	fmt.Fprintf(e.Out, "import-bomb: server RSS idle %.1f MB, peak %.1f MB\n",
		float64(out.IdleRSSBytes)/(1<<20), float64(out.PeakRSSBytes)/(1<<20))
	return out, nil
}
