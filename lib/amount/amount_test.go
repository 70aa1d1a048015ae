package amount

import "testing"

func TestParse(t *testing.T) {
	good := []struct {
		in   string
		want Units
	}{
		{"0", 0},
		{"1", Coin},
		{"1.5", 150_000_000},
		{"0.00000001", 1},
		{"21000000", MaxMoney},
		{"20999999.99999999", MaxMoney - 1},
		{"0.1", 10_000_000},
	}
	for _, c := range good {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if back, _ := Parse(Format(got)); back != got {
			t.Errorf("Format/Parse round trip of %d: %d", got, back)
		}
	}
	bad := []string{"", ".", "1.", ".5", "-1", "+1", "1e8", "01", "00.1", "1.000000001",
		"21000000.00000001", "100000000", "1,5", " 1", "1 ", "NaN", "0x10", "1.5.5", "１"}
	for _, in := range bad {
		if u, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, u)
		}
	}
}

func TestFormat(t *testing.T) {
	for u, want := range map[Units]string{0: "0", 1: "0.00000001", Coin: "1", 150_000_000: "1.5", MaxMoney: "21000000"} {
		if got := Format(u); got != want {
			t.Errorf("Format(%d) = %q, want %q", u, got, want)
		}
	}
}

func TestAdd(t *testing.T) {
	if s, err := Add(MaxMoney-1, 1); err != nil || s != MaxMoney {
		t.Errorf("Add at the limit: %d, %v", s, err)
	}
	for _, c := range [][2]Units{{MaxMoney, 1}, {MaxMoney + 1, 0}, {^Units(0), 1}, {1 << 63, 1 << 63}} {
		if _, err := Add(c[0], c[1]); err == nil {
			t.Errorf("Add(%d, %d) passed", c[0], c[1])
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.5", "0", "21000000", "1e5", "-1", "0.00000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			return
		}
		if u > MaxMoney {
			t.Fatalf("Parse(%q) = %d above MaxMoney", s, u)
		}
		if Format(u) != s && s != Format(u) {
			// Accepted input may carry trailing zeros ("1.50"); it must still round trip by value.
			if back, err := Parse(Format(u)); err != nil || back != u {
				t.Fatalf("round trip of %q: %d %v", s, back, err)
			}
		}
	})
}
