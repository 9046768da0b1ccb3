package store

const crashChildEnv = "LATCH_STORE_CRASH_CHILD"

func crashChild() int { return 0 }
