/* Private to the state-file code and its tests. */
#ifndef CTORCH_STATE_FILE_IMPL_H
#define CTORCH_STATE_FILE_IMPL_H

#include <stdint.h>

/* Open HDF5 identifiers of every kind a state-file call creates (files, groups, datatypes,
 * dataspaces, datasets, attributes, property lists), the predefined ones included: the tests check
 * that it is the same before and after any call, failing or not. */
int64_t ct__state_file_open_ids(void);

#endif /* CTORCH_STATE_FILE_IMPL_H */
