#pragma once
// Part 10 files in memory: what goes to Orthanc's /instances and out of WADO-RS when an object
// had to be changed (de-identified) before it is sent.
#include <string>

class DcmFileFormat;

namespace annot {

// The bytes of a file format object (meta header updated), Explicit VR Little Endian unless the
// dataset is encapsulated, in which case its own transfer syntax is kept.
std::string part10Bytes(DcmFileFormat& object);
// The same in the transfer syntax `transferSyntaxUid` ("" keeps the dataset's own), decoding
// compressed pixel data when a decoder is registered (registerDecoders()); throws
// std::runtime_error naming the syntaxes when the conversion is not possible.
std::string part10Bytes(DcmFileFormat& object, const std::string& transferSyntaxUid);

}  // namespace annot
