#include "skryba_shims.h"
#include <opus/opus.h>

int skryba_opus_set_bitrate(OpusEncoder *encoder, int32_t bitsPerSecond) {
    return opus_encoder_ctl(encoder, OPUS_SET_BITRATE(bitsPerSecond));
}

int skryba_opus_set_complexity(OpusEncoder *encoder, int32_t complexity) {
    return opus_encoder_ctl(encoder, OPUS_SET_COMPLEXITY(complexity));
}

int skryba_opus_set_vbr(OpusEncoder *encoder, int32_t enabled) {
    return opus_encoder_ctl(encoder, OPUS_SET_VBR(enabled));
}

int skryba_opus_set_signal_voice(OpusEncoder *encoder) {
    return opus_encoder_ctl(encoder, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}

int skryba_opus_get_lookahead(OpusEncoder *encoder, int32_t *samples) {
    opus_int32 value = 0;
    int status = opus_encoder_ctl(encoder, OPUS_GET_LOOKAHEAD(&value));
    *samples = value;
    return status;
}

int skryba_opus_get_final_range(OpusEncoder *encoder, uint32_t *range) {
    opus_uint32 value = 0;
    int status = opus_encoder_ctl(encoder, OPUS_GET_FINAL_RANGE(&value));
    *range = value;
    return status;
}
