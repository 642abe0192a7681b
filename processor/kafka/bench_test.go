package kafka

import (
	"context"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/signatures"
)

const benchPartitions = 4

// discard is an output that is durable at once.
var discard = pipeline.OutputFunc(func(*document.Document) error { return nil })

// drainBare reads every partition to its end with plain kafka-go readers:
// the cost of getting the messages out of the broker, nothing else.
func drainBare(b *testing.B, brokers []string, ends map[int]int64) {
	var wg sync.WaitGroup
	for p, end := range ends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 100 * time.Millisecond})
			defer r.Close()
			for {
				m, err := r.ReadMessage(context.Background())
				if err != nil {
					b.Error(err)
					return
				}
				if m.Offset >= end-1 {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// runConsumer consumes every partition to its end through the whole
// pipeline, as a fresh group.
func runConsumer(b *testing.B, brokers []string, ends map[int]int64, group string) {
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		b.Fatal(err)
	}
	cfg := testConfig(brokers)
	cfg.GroupID = group
	c, err := New(cfg, matcher.New(sigs), discard)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for {
		pos := c.Positions()
		finished := len(pos) == len(ends)
		for p, end := range ends {
			if pos[p] < end-1 {
				finished = false
			}
		}
		if finished {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}

// BenchmarkConsumer reports lines/s through the consumer and through a bare
// kafka-go reader draining the same topic, and their ratio.
func BenchmarkConsumer(b *testing.B) {
	brokers := cluster(b, benchPartitions)
	msgs, _ := fleet(b, 200_000, 9)
	produce(b, brokers, msgs)
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...)}
	ends := map[int]int64{}
	var reqs []kafkago.OffsetRequest
	for p := 0; p < benchPartitions; p++ {
		reqs = append(reqs, kafkago.LastOffsetOf(p))
	}
	res, err := cl.ListOffsets(context.Background(), &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: reqs}})
	if err != nil {
		b.Fatal(err)
	}
	for _, po := range res.Topics[topic] {
		if po.LastOffset > 0 {
			ends[po.Partition] = po.LastOffset
		}
	}
	var bare, ours time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		drainBare(b, brokers, ends)
		bare += time.Since(t0)
		t1 := time.Now()
		runConsumer(b, brokers, ends, "bench-"+string(rune('a'+i%26))+time.Now().Format("150405.000000"))
		ours += time.Since(t1)
	}
	n := float64(len(msgs)) * float64(b.N)
	b.ReportMetric(n/bare.Seconds(), "bare-lines/s")
	b.ReportMetric(n/ours.Seconds(), "consumer-lines/s")
	b.ReportMetric(ours.Seconds()/bare.Seconds(), "ratio")
}
