// Package door is latch's decision-maker: the Card + Code state machine,
// door modes, strike, door position switch and exit button.
package door
