// tests/public/test_api.c compiled as C++: the public header must work in C++ apps (JNI, Objective-C++).
#include "test_api.c"
