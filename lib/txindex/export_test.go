package txindex

import bolt "go.etcd.io/bbolt"

// Damage changes the index database at path with fn, as a damaged disk or
// a bug would: for the tests of Check.
func Damage(path string, fn func(tx *bolt.Tx) error) error {
	db, err := bolt.Open(path, 0o644, boltOptions(false))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(fn)
}

// The buckets, for Damage.
var (
	BucketMeta   = bucketMeta
	BucketBlocks = bucketBlocks
	BucketTxs    = bucketTxs
	BucketAddrs  = bucketAddrs
	BucketStats  = bucketStats
	KeyTip       = keyTip
)

// WithGenShift returns o making new indexes of generations of 1<<shift
// heights: tests cross generations with few blocks.
func WithGenShift(o Options, shift uint8) Options {
	o.genShift = shift
	return o
}
