// Package gpiosim drives the Linux kernel's gpio-sim (a simulated GPIO chip
// made through configfs) for the hardware-in-the-loop tests of make hil
// (docs/hil.md): it creates a chip with named lines, sets an input line's
// level through the line's "pull" attribute (the kernel then raises the
// edge interrupt, timestamps and queues the edge exactly as for a real
// pin) and reads back the level an output line is driven to. It needs a
// kernel with CONFIG_GPIO_SIM and configfs mounted at /sys/kernel/config;
// only the tests built with the hil tag use it.
package gpiosim
