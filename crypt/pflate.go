package crypt

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"runtime"
	"sync"

	kflate "github.com/klauspost/compress/flate"
)

// Level is how hard deflate works on compressible entries.
type Level int

const (
	// LevelDefault is the standard library's compress/flate at level 5, the
	// size kuvert always wrote (about 1.07× 7-Zip's default zip size on a
	// payroll CSV); klauspost/compress at levels 1–7 measured
	// 12–26 % larger than 7-Zip, outside the 1.10× the default must keep.
	LevelDefault Level = iota
	// LevelFast is klauspost/compress's flate at level 2: about five times
	// the speed of LevelDefault per core for about 1.15× its size
	// (`--fast`, for batch hosts).
	LevelFast
)

// pflateBlock is the input size compressed as one independent piece.
const pflateBlock = 512 << 10

// dictSize is deflate's window: each block is compressed with the previous
// block's last 32 KiB as its dictionary, so back-references across block
// boundaries are not lost.
const dictSize = 32 << 10

// pflateWriter is a parallel deflate compressor producing ONE ordinary
// deflate stream (the pigz technique): the input is cut into blocks, each
// block is compressed on its own goroutine with the previous 32 KiB as a
// preset dictionary and ends in a sync flush (byte-aligned, not final),
// the last block ends in a final block, and the pieces are written in
// order. Any inflater reads the result. Memory stays bounded: at most
// 2×workers blocks are in flight.
type pflateWriter struct {
	dst     io.Writer
	level   Level
	block   int // input bytes per block (pflateBlock; smaller in tests)
	cur     *pjob
	prevEnd []byte // the last dictSize bytes of input so far
	jobs    chan *pjob
	order   chan *pjob
	done    chan struct{}
	err     error // set by the ordering goroutine before done closes
	errMu   sync.Mutex
	wg      sync.WaitGroup
	closed  bool
}

type pjob struct {
	in    []byte
	dict  []byte
	final bool
	out   bytes.Buffer
	err   error
	ready chan struct{}
}

var pjobPool = sync.Pool{New: func() any {
	return &pjob{in: make([]byte, 0, pflateBlock), dict: make([]byte, 0, dictSize)}
}}

// Per-level pools of compressors, reused through Reset/ResetDict.
var (
	fastPool = sync.Pool{New: func() any { w, _ := kflate.NewWriter(io.Discard, 2); return w }}
	stdPool  = sync.Pool{New: func() any { w, _ := stdflate.NewWriter(io.Discard, 5); return w }}
)

func newPflateWriter(dst io.Writer, level Level) *pflateWriter {
	return newPflateWriterBlock(dst, level, pflateBlock)
}

func newPflateWriterBlock(dst io.Writer, level Level, block int) *pflateWriter {
	return &pflateWriter{dst: dst, level: level, block: block}
}

// start launches the workers and the ordering goroutine when the first
// full block is ready. An entry that fits in one block is compressed on
// the caller's goroutine at Close: for a thousand small files, handing
// each to another thread and back cost more than it saved.
func (w *pflateWriter) start() {
	workers := runtime.GOMAXPROCS(0)
	w.jobs = make(chan *pjob)
	w.order = make(chan *pjob, workers)
	w.done = make(chan struct{})
	for range workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for j := range w.jobs {
				j.err = compressBlock(j, w.level)
				close(j.ready)
			}
		}()
	}
	go w.writeInOrder()
}

// compressBlock deflates one block into j.out.
func compressBlock(j *pjob, level Level) error {
	j.out.Grow(len(j.in)/3 + 4096) // text deflates to about 0.3; more grows as needed
	if level == LevelFast {
		fw := fastPool.Get().(*kflate.Writer)
		defer fastPool.Put(fw)
		fw.ResetDict(&j.out, j.dict)
		return finishBlock(fw, j)
	}
	var fw *stdflate.Writer
	if len(j.dict) == 0 {
		fw = stdPool.Get().(*stdflate.Writer)
		defer stdPool.Put(fw)
		fw.Reset(&j.out)
	} else {
		// The standard library cannot change a writer's dictionary on
		// Reset; a new writer per 512 KiB block is a small cost next to
		// compressing it.
		var err error
		if fw, err = stdflate.NewWriterDict(&j.out, 5, j.dict); err != nil {
			return err
		}
	}
	return finishBlock(fw, j)
}

type blockWriter interface {
	io.Writer
	Flush() error
	Close() error
}

func finishBlock(fw blockWriter, j *pjob) error {
	if _, err := fw.Write(j.in); err != nil {
		return err
	}
	if j.final {
		return fw.Close()
	}
	return fw.Flush()
}

func (w *pflateWriter) writeInOrder() {
	defer close(w.done)
	var err error
	for j := range w.order {
		<-j.ready
		if err == nil {
			err = j.err
		}
		if err == nil {
			_, err = w.dst.Write(j.out.Bytes())
		}
		if err != nil {
			w.errMu.Lock()
			w.err = err
			w.errMu.Unlock()
		}
		j.in, j.dict = j.in[:0], j.dict[:0]
		j.out.Reset()
		j.err, j.final, j.ready = nil, false, nil
		pjobPool.Put(j)
	}
}

func (w *pflateWriter) failed() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *pflateWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if w.cur == nil {
			if err := w.failed(); err != nil {
				return 0, err
			}
			w.cur = pjobPool.Get().(*pjob)
			w.cur.dict = append(w.cur.dict[:0], w.prevEnd...)
		}
		k := min(len(p), w.block-len(w.cur.in))
		w.cur.in = append(w.cur.in, p[:k]...)
		p = p[k:]
		if len(w.cur.in) == w.block {
			w.dispatch(false)
		}
	}
	return n, nil
}

// dispatch sends the current block to the workers.
func (w *pflateWriter) dispatch(final bool) {
	j := w.cur
	w.cur = nil
	j.final = final
	j.ready = make(chan struct{})
	in := j.in
	if len(in) >= dictSize {
		w.prevEnd = append(w.prevEnd[:0], in[len(in)-dictSize:]...)
	} else {
		w.prevEnd = append(w.prevEnd, in...)
		if len(w.prevEnd) > dictSize {
			w.prevEnd = w.prevEnd[len(w.prevEnd)-dictSize:]
		}
	}
	if w.jobs == nil {
		w.start()
	}
	w.order <- j
	w.jobs <- j
}

// Close compresses what is left as the final block and waits until every
// block was written.
func (w *pflateWriter) Close() error {
	if w.closed {
		return w.failed()
	}
	w.closed = true
	if w.cur == nil {
		w.cur = pjobPool.Get().(*pjob)
		w.cur.dict = append(w.cur.dict[:0], w.prevEnd...)
	}
	if w.jobs == nil {
		// One block in all: compress it here.
		j := w.cur
		w.cur = nil
		j.final = true
		err := compressBlock(j, w.level)
		if err == nil {
			_, err = w.dst.Write(j.out.Bytes())
		}
		j.in, j.dict = j.in[:0], j.dict[:0]
		j.out.Reset()
		j.final = false
		pjobPool.Put(j)
		w.err = err
		return err
	}
	w.dispatch(true)
	close(w.jobs)
	close(w.order)
	<-w.done
	w.wg.Wait()
	return w.failed()
}
