package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

// rfcLeaf is RFC 9162's leaf hash of data.
func rfcLeaf(data []byte) []byte {
	h := sha256.Sum256(append([]byte{0}, data...))
	return h[:]
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The test vectors every RFC 6962/9162 implementation checks itself
// against (Certificate Transparency's reference tests): the roots of the
// trees over the first 1 to 8 of eight leaves, and two audit paths.
func TestTreeMatchesCertificateTransparencyVectors(t *testing.T) {
	data := []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	roots := []string{
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	var leaves leafList
	var f frontier
	if hex.EncodeToString(f.root()) != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" ||
		!bytes.Equal(mth(nil), f.root()) {
		t.Fatalf("empty tree: %x", f.root())
	}
	for i, d := range data {
		leaves = append(leaves, rfcLeaf(unhex(t, d)))
		f.add(leaves[i])
		if got := hex.EncodeToString(mth(leaves)); got != roots[i] {
			t.Errorf("root of %d leaves: %s, want %s", i+1, got, roots[i])
		}
		if got := hex.EncodeToString(f.root()); got != roots[i] {
			t.Errorf("frontier's root of %d leaves: %s, want %s", i+1, got, roots[i])
		}
	}
	for _, c := range []struct {
		m    int64
		path []string
	}{
		{0, []string{"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
		{5, []string{"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
	} {
		path := auditPath(leaves.hash, c.m, 0, 8)
		if len(path) != len(c.path) {
			t.Fatalf("path of leaf %d: %d hashes", c.m, len(path))
		}
		for i := range path {
			if hex.EncodeToString(path[i]) != c.path[i] {
				t.Errorf("path of leaf %d, [%d]: %x, want %s", c.m, i, path[i], c.path[i])
			}
		}
		if root, rest, ok := climb(leaves[c.m], c.m, 8, path); !ok || len(rest) != 0 || hex.EncodeToString(root) != roots[7] {
			t.Errorf("climb from leaf %d: %x %v", c.m, root, ok)
		}
	}
}

// Every leaf of every tree up to 70 leaves climbs to the root, taking
// exactly its path; a path of another leaf, or one hash short, does not.
func TestAuditPathsClimbToTheRoot(t *testing.T) {
	var leaves leafList
	for n := int64(1); n <= 70; n++ {
		leaves = append(leaves, rfcLeaf([]byte(fmt.Sprint(n))))
		root := mth(leaves)
		for m := range n {
			path := auditPath(leaves.hash, m, 0, n)
			got, rest, ok := climb(leaves[m], m, n, append(path, []byte("next tree")))
			if !ok || len(rest) != 1 || !bytes.Equal(got, root) {
				t.Fatalf("leaf %d of %d: %x, %d left, %v", m, n, got, len(rest), ok)
			}
			if len(path) > 0 {
				if _, _, ok := climb(leaves[m], m, n, path[:len(path)-1]); ok {
					t.Fatalf("leaf %d of %d: a short path reached a root", m, n)
				}
			}
			if other := (m + 1) % n; other != m {
				if got, _, _ := climb(leaves[other], other, n, path); bytes.Equal(got, root) {
					t.Fatalf("leaf %d of %d: leaf %d's path reached the root", other, n, m)
				}
			}
		}
	}
}

// A chain's tree built from only the entries needed says (stored subtree
// hashes and leaves of the groups around the leaf and at the right edge)
// gives the root and the audit path of the whole tree, at sizes around
// each stored level's boundaries; it reads at most 31 leaves, and at most
// 31 entries of each stored level.
func TestChainTreeFromTheNeededEntriesIsTheWholeTree(t *testing.T) {
	var all leafList
	for i := range 5000 {
		all = append(all, rfcLeaf([]byte(fmt.Sprint("tx", i))))
	}
	for _, n := range []int64{1, 2, 15, 16, 17, 255, 256, 257, 300, 4095, 4096, 4097, 5000} {
		for _, m := range []int64{0, n / 2, n - 1, min(16, n-1), min(256+17, n-1)} {
			tree := &chainTree{size: n, entries: map[entry][]byte{}}
			perLevel := map[int]int64{}
			for _, sp := range needed("c", n, m) {
				for i := sp.from; i < sp.to; i++ {
					tree.entries[entry{sp.level, i}] = mth(all[i<<sp.level : (i+1)<<sp.level])
				}
				perLevel[sp.level] += sp.to - sp.from
			}
			for level, k := range perLevel {
				if k > 31 {
					t.Errorf("size %d, leaf %d: %d entries of level %d", n, m, k, level)
				}
			}
			if !bytes.Equal(tree.root(), mth(all[:n])) {
				t.Fatalf("root of %d", n)
			}
			got, want := auditPath(tree.hash, m, 0, n), auditPath(all[:n].hash, m, 0, n)
			if len(got) != len(want) {
				t.Fatalf("path of %d in %d: %d hashes, want %d", m, n, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("path of %d in %d differs at %d", m, n, i)
				}
			}
		}
	}
}
