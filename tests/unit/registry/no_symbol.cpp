// A shared module named like a plugin but without the descriptor symbol.
extern "C" __attribute__((visibility("default"))) int not_a_plugin(void) { return 42; }
