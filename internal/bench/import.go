package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/careloop/careloop/internal/loadgen"
)

func init() {
	Scenarios = append(Scenarios, Scenario{"import", "cli.bench.import", runImport})
}

// ImportResult reports the import scenario.
type ImportResult struct {
	Scenario      string  `json:"scenario"`
	Rows          int     `json:"rows"`
	FileBytes     int     `json:"file_bytes"`
	UploadMS      float64 `json:"upload_ms"` // until the 202 with the job
	TotalMS       float64 `json:"total_ms"`  // until the job is done
	Created       int     `json:"created"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes"` // the server's VmHWM
	IdleRSSBytes  int64   `json:"idle_rss_bytes"` // before the upload
	RowsPerSecond float64 `json:"rows_per_second"`
}

// importWorkbook writes n customer rows with the columns of the care-record
// template and the usual others, through excelize's StreamWriter.
func importWorkbook(n int) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return nil, err
	}
	head := []any{"客户编号", "客户名称/单位", "联系方式", "邮箱", "所属行业/产品类型", "客户等级", "地址", "生日", "备注"}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	surnames := []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"}
	given := []string{"伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明"}
	tiers := []string{"VIP", "普通", "潜在", "普通"}
	industries := []string{"电子/路由器", "制造/空压机", "医疗/监护仪", "教育/投影仪", "零售/收银机"}
	row := make([]any, len(head))
	for i := range n {
		number := ""
		if i%10 == 0 {
			number = fmt.Sprintf("202401%03d", i/10+1)
		}
		name := surnames[i%len(surnames)] + given[(i/len(surnames))%len(given)] + strconv.Itoa(i)
		if i%3 == 0 {
			name = "杭州" + given[i%len(given)] + "科技有限公司" + strconv.Itoa(i)
		}
		row[0], row[1], row[2] = number, name, fmt.Sprintf("13%d%08d", 5+i%5, i)
		row[3] = fmt.Sprintf("c%d@example.com", i)
		row[4], row[5] = industries[i%len(industries)], tiers[i%len(tiers)]
		row[6] = "浙江省杭州市西湖区文三路" + strconv.Itoa(i%500) + "号"
		row[7] = fmt.Sprintf("19%02d-%02d-%02d", 50+i%50, 1+i%12, 1+i%28)
		row[8] = "首次购买于门店"
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func runImport(ctx context.Context, e Env, o Options) (any, error) {
	rows := 100_000
	if v, err := strconv.Atoi(os.Getenv("CARELOOP_BENCH_IMPORT_ROWS")); err == nil && v > 0 {
		rows = v
	}
	file, err := importWorkbook(rows)
	if err != nil {
		return nil, fmt.Errorf("import: build workbook: %w", err)
	}
	rig, err := NewRig(ctx, e, "bench@example.com", "supervisor")
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	srv, token := rig.Server, rig.Token
	out := ImportResult{Scenario: "import", Rows: rows, FileBytes: len(file)}
	time.Sleep(time.Second)
	out.IdleRSSBytes, _, _ = loadgen.ReadRSS(srv.PID())

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "bench-import.xlsx")
	_, _ = fw.Write(file)
	_ = mw.Close()
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.BaseURL+"/api/v1/customers/import", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := &http.Client{Timeout: 5 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("import: upload: %w", err)
	}
	var job struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Error  string `json:"error"`
		Result *struct {
			Created   int `json:"created"`
			ErrorRows int `json:"error_rows"`
		} `json:"result"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out.UploadMS = float64(time.Since(start).Microseconds()) / 1000
	switch resp.StatusCode {
	case http.StatusOK: // small file: imported in the request
		if err := json.Unmarshal(b, &job.Result); err != nil {
			return nil, err
		}
		job.Status = "done"
	case http.StatusAccepted:
		if err := json.Unmarshal(b, &job); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("import: upload answered %d: %s", resp.StatusCode, b)
	}
	for job.Status == "queued" || job.Status == "running" {
		time.Sleep(100 * time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/customers/import/jobs/%d", srv.BaseURL, job.ID), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(b, &job); err != nil {
			return nil, fmt.Errorf("import: job: %w: %s", err, b)
		}
	}
	total := time.Since(start)
	out.TotalMS = float64(total.Microseconds()) / 1000
	_, out.PeakRSSBytes, _ = loadgen.ReadRSS(srv.PID())
	if job.Status != "done" || job.Result == nil {
		return nil, fmt.Errorf("import: job ended %s: %s", job.Status, job.Error)
	}
	out.Created = job.Result.Created
	if out.Created != rows {
		return nil, fmt.Errorf("import: %d of %d rows created (%d with problems)", out.Created, rows, job.Result.ErrorRows)
	}
	out.RowsPerSecond = float64(rows) / total.Seconds()
	fmt.Fprintf(e.Out, "import: %d rows (%.1f MB xlsx) in %.1f s end to end (upload %.0f ms), %.0f rows/s; server RSS idle %.1f MB, peak %.1f MB\n",
		rows, float64(len(file))/(1<<20), total.Seconds(), out.UploadMS, out.RowsPerSecond,
		float64(out.IdleRSSBytes)/(1<<20), float64(out.PeakRSSBytes)/(1<<20))
	return out, nil
}
