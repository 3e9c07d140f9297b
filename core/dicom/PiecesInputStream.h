#pragma once
// A DCMTK input stream over an object held in memory as pieces (the chunks it was received
// in), read as one contiguous stream without joining them.
//
// Unlike DcmInputBufferStream it can hand out a factory for any position, which is what lets
// DCMTK skip values longer than the caller's maxReadLength instead of copying them: parsing a
// CT slice's header then costs no 512 KiB allocation and copy of its pixel data, while the
// parser still walks every element and reports a truncated one. The pieces must outlive the
// stream and every factory it hands out (DCMTK keeps them in the skipped elements).
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrma.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace annot {

using Pieces = std::vector<std::string_view>;

class PiecesProducer : public DcmProducer {
 public:
  PiecesProducer(std::shared_ptr<const Pieces> pieces, offile_off_t start);
  OFBool good() const override { return OFTrue; }
  OFCondition status() const override { return EC_Normal; }
  OFBool eos() override { return position_ >= total_; }
  offile_off_t avail() override { return total_ - position_; }
  offile_off_t read(void* buf, offile_off_t buflen) override;
  offile_off_t skip(offile_off_t skiplen) override;
  void putback(offile_off_t num) override;

 private:
  std::shared_ptr<const Pieces> pieces_;
  offile_off_t total_ = 0;
  offile_off_t position_ = 0;
  size_t piece_ = 0;           // the piece holding position_
  offile_off_t pieceStart_ = 0;  // offset of pieces_[piece_] in the stream
  void seek(offile_off_t position);
};

class PiecesInputStream : public DcmInputStream {
 public:
  explicit PiecesInputStream(const Pieces& pieces);
  // Over one string whose ownership it shares: values left unread stay readable for as long
  // as the parsed object that holds their factories lives, after the caller's copy is gone.
  explicit PiecesInputStream(std::shared_ptr<const std::string> bytes);
  PiecesInputStream(std::shared_ptr<const Pieces> pieces, offile_off_t start);
  DcmInputStreamFactory* newFactory() const override;

 private:
  std::shared_ptr<const Pieces> pieces_;
  offile_off_t start_;
  PiecesProducer producer_;
};

// Reads one whole Part 10 object from `in` into `file`; values longer than `maxReadLength` are
// left in the stream's bytes. The stream holds the whole object, so a parser asking for more
// means the object was cut short: that is reported as EC_EndOfStream.
OFCondition readWholeObject(DcmFileFormat& file, PiecesInputStream& in, Uint32 maxReadLength);

}  // namespace annot
