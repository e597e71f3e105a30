#include <cblas.h>

// Exported by OpenBLAS builds with DYNAMIC_ARCH (Debian's are): they let Fathom
// re-select the CPU kernels at start-up when OpenBLAS mis-detects the processor.
void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);
