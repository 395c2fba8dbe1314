/* Private to the state-file code and its tests. */
#ifndef CTORCH_STATE_FILE_IMPL_H
#define CTORCH_STATE_FILE_IMPL_H

#include <stdint.h>

/* Open HDF5 identifiers of every kind a state-file call creates (files, groups, datatypes,
 * dataspaces, datasets, attributes, property lists), the predefined ones included: the tests check
 * that it is the same before and after any call, failing or not. */
int64_t ct__state_file_open_ids(void);

/* Every HDF5 call in the library runs under this one lock (the serial HDF5 library is not
 * thread-safe). ct__h5_why writes " (HDF5: <innermost message>)" or "" into buf (256 bytes) and
 * clears HDF5's error stack; call it with the lock held. */
void ct__h5_lock(void);
void ct__h5_unlock(void);
const char *ct__h5_why(char *buf);

#endif /* CTORCH_STATE_FILE_IMPL_H */
