package config_test

import (
	"fmt"

	"github.com/latchd/latch/internal/config"
)

func ExampleParse() {
	_, err := config.Parse([]byte(`
[[door]]
name        = "front"
relay       = "GPIO23"
unlock_time = "90s"
`), "latch.toml")
	fmt.Println(err)
	// Output: config: latch.toml:5: door[0].unlock_time: 1m30s is outside 1s–1m0s
}
