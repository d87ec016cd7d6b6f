package demo

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
)

// A few demo replies carry a file, so that the thread shows attachments: a
// photo of the unit (a small PNG, previewed) or a service report (a PDF).
// Which ones depends on the ticket's id, not on the random source, so the
// rest of the month is the same with or without files.

// demoPDF is a one-page PDF saying what it is.
var demoPDF = []byte("%PDF-1.4\n" +
	"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
	"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
	"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj\n" +
	"4 0 obj << /Length 58 >> stream\nBT /F1 18 Tf 72 760 Td (Careloop demo service report) Tj ET\nendstream endobj\n" +
	"5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n" +
	"trailer << /Root 1 0 R >>\n%%EOF\n")

// demoPhoto is a 96×64 picture: a grey unit on a blue wall.
func demoPhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			c := color.RGBA{R: 170, G: 196, B: 222, A: 255}
			if x > 20 && x < 76 && y > 16 && y < 52 {
				c = color.RGBA{R: 120, G: 124, B: 130, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// firstReply is the agent's first reply, with a file on some tickets when
// the store keeps files.
func firstReply(ctx context.Context, store *tickets.Store, owner *identity.Principal, t tickets.Ticket, in tickets.Post) error {
	st := store.Attachments()
	var name string
	var content []byte
	switch {
	case st == nil:
	case t.ID%9 == 0:
		name, content = "现场照片.png", demoPhoto()
	case t.ID%9 == 4:
		name, content = "检测报告.pdf", demoPDF
	}
	if content == nil {
		_, _, err := store.AddPost(ctx, owner, t.ID, in)
		return err
	}
	staged, err := st.Stage(ctx, name, bytes.NewReader(content))
	if err != nil {
		return err
	}
	in.Body += " 附件请查收。"
	_, _, err = store.AddPostWithFiles(ctx, owner, t.ID, in, []attachments.Staged{staged})
	return err
}
