package store

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// newFeed re-reads a users file in pass 2 and yields the records of the
// users that pass 1 found new (newRows): the user record, its entry code
// record and its ucards record. Pass 1 assigned their ids in file order
// from the users bucket's sequence, above every existing id, so the feed
// is in key order after everything already in the users and ucards
// buckets: writing it appends to both B-trees. Keeping these records out
// of memory between the passes is what lets a million-user file import in
// a bounded heap.
//
// The second read must be the first one again: the feed checks the byte
// count and CRC-32 of the whole input, that every new row still parses and
// that it makes as many users, and returns ErrInputChanged otherwise.
type newFeed struct {
	it    *importer
	cr    *countingReader
	r     *csv.Reader
	row   int    // next data row
	seq   uint64 // last user sequence used
	users int
	recs  int
	buf   []feedRec // records of the current row not yet yielded
	done  bool
}

type feedRec struct {
	ucards   bool // else the users bucket
	key, val []byte
}

func (it *importer) newFeed() (*newFeed, error) {
	f, err := it.open()
	if err != nil {
		return nil, fmt.Errorf("store: import: read again: %w", err)
	}
	cr, r := csvReader(f)
	if _, err := r.Read(); err != nil { // the header, checked in pass 1
		return nil, ErrInputChanged
	}
	return &newFeed{it: it, cr: cr, r: r, seq: it.firstSeq}, nil
}

// next returns the next record, ok false at the end of the feed.
func (f *newFeed) next() (rec feedRec, ok bool, err error) {
	for len(f.buf) == 0 {
		if f.done {
			return feedRec{}, false, nil
		}
		if err := f.fill(); err != nil {
			return feedRec{}, false, err
		}
	}
	rec, f.buf = f.buf[0], f.buf[1:]
	return rec, true, nil
}

// fill reads rows up to the next new user's and queues its records; at the
// end of the input it checks that the input was the one pass 1 read.
func (f *newFeed) fill() error {
	it := f.it
	for {
		rec, err := f.r.Read()
		if err == io.EOF {
			f.done = true
			if f.cr.n != it.pass1Bytes || f.cr.crc != it.pass1CRC || f.row != it.sum.Rows ||
				f.users != it.newUsers || f.recs != it.newRecs || f.seq != it.userSeq {
				return ErrInputChanged
			}
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			var rl *rowTooLongError
			if errors.As(err, &pe) || errors.As(err, &rl) {
				return ErrInputChanged // pass 1 found no bad row
			}
			return fmt.Errorf("store: import: read again: %w", err)
		}
		i := f.row
		f.row++
		if i/64 >= len(it.newRows) || it.newRows[i/64]&(1<<(i%64)) == 0 {
			continue
		}
		line, _ := f.r.FieldPos(0)
		r, errs := it.hdr.parseUser(rec, line)
		if len(errs) > 0 {
			return ErrInputChanged
		}
		f.seq++
		f.users++
		uid := []byte(newUserID(f.seq))
		u := userRec{UserFields: r.f, Created: it.now, Updated: it.now}
		f.buf = append(f.buf[:0], feedRec{key: uid, val: encodeUser(&u)})
		if r.entryCode != nil {
			mac := it.s.entryMAC(nil, r.entryCode)
			f.buf = append(f.buf, feedRec{key: entryKey(uid), val: encodeCode(mac, len(r.entryCode), it.now, it.by.Name)})
		}
		if r.hasCard {
			f.buf = append(f.buf, feedRec{ucards: true, key: appendCardKey(bytes.Clone(uid), r.card), val: []byte{}})
		}
		f.recs += len(f.buf)
		return nil
	}
}

// write puts up to max records of the feed (all when max < 0) into users
// and ucards and reports whether the feed is exhausted. The keys and values
// are fresh allocations, as bolt keeps them until the commit.
func (f *newFeed) write(users, ucards putter, max int) (bool, error) {
	for n := 0; max < 0 || n < max; n++ {
		rec, ok, err := f.next()
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil
		}
		b := users
		if rec.ucards {
			b = ucards
		}
		if err := b.Put(rec.key, rec.val); err != nil {
			return false, err
		}
	}
	return false, nil
}
