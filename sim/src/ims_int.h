/*
 * ims_int.h -- what the IMS's source files share privately: the model files
 * (ims_model_file.c) and the data loader (ims_data.c).  Private to sim/.
 */
#ifndef SKADI_SIM_IMS_INT_H
#define SKADI_SIM_IMS_INT_H

/* 1 when path is an HDF5 file marked as an IMS model (root attribute kind =
 * SK_IMS_FILE_KIND), else 0 (missing, not HDF5, another kind of file).  The data loader
 * asks, to name a model handed over as data.  Silences HDF5's error printing. */
int sk__ims_is_model_file(const char *path);

#endif
