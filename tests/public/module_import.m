// Objective-C importing libpinhole as a Clang module (client/include/module.modulemap), as Swift
// and Objective-C code in an iOS app do; checked with clang -fmodules -fsyntax-only.
@import Pinhole;

int main(void)
{
    pinhole_collection *col = 0;
    return pinhole_init() == PINHOLE_OK &&
                   pinhole_collection_new_params(&col, PINHOLE_MECH_PGR, 16, 1.0) == PINHOLE_OK
               ? 0
               : 1;
}
