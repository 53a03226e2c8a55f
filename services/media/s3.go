package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3Options configure S3.
type S3Options struct {
	Bucket   string
	Endpoint string // e.g. https://s3.example.pk; empty: AWS S3
	Region   string // default us-east-1
	// PathStyle addresses the bucket as endpoint/bucket/key rather than
	// bucket.endpoint/key.
	PathStyle bool
	Prefix    string // put before every key, e.g. "karigar/"
	// Static credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
	// AWS_SESSION_TOKEN); both of the first two are required.
	AccessKeyID, SecretAccessKey, SessionToken string
	HTTPClient                                 *http.Client // nil: the SDK's default
}

// S3 keeps objects in a bucket of S3-compatible object storage, through
// AWS's SDK for Go v2: AWS S3 itself, or any server that speaks its
// protocol with SigV4 (versitygw, Ceph, Garage, R2, Spaces, B2...).
type S3 struct {
	client *s3.Client
	bucket string
	prefix string
	desc   string
}

// NewS3 returns the storage of opt's bucket. It does not reach the server:
// Check does.
func NewS3(opt S3Options) (*S3, error) {
	if opt.Bucket == "" {
		return nil, errors.New("an s3 URL names its bucket: s3://bucket?endpoint=...&region=...")
	}
	if opt.AccessKeyID == "" || opt.SecretAccessKey == "" {
		return nil, errors.New("S3 storage needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	if opt.Region == "" {
		opt.Region = "us-east-1"
	}
	o := s3.Options{
		Region:       opt.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(opt.AccessKeyID, opt.SecretAccessKey, opt.SessionToken),
		UsePathStyle: opt.PathStyle,
		// Checksums only where the protocol requires them: servers other
		// than AWS's do not all take the SDK's default trailing CRC32.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           3,
	}
	if opt.Endpoint != "" {
		o.BaseEndpoint = aws.String(strings.TrimRight(opt.Endpoint, "/"))
	}
	if opt.HTTPClient != nil {
		o.HTTPClient = opt.HTTPClient
	}
	desc := "s3 bucket " + opt.Bucket
	if opt.Endpoint != "" {
		desc += " at " + opt.Endpoint
	}
	return &S3{client: s3.New(o), bucket: opt.Bucket, prefix: opt.Prefix, desc: desc}, nil
}

func (s *S3) String() string { return s.desc }

func (s *S3) Put(ctx context.Context, key string, data []byte, contentType string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String(contentType),
		// Served straight from the bucket or a CDN (public_url), the
		// objects carry the headers the binary would send.
		CacheControl: aws.String(ImmutableCacheControl)})
	if err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	return nil
}

func (s *S3) Open(ctx context.Context, key string) (*Object, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	var noKey *types.NoSuchKey
	if errors.As(err, &noKey) || httpStatus(err) == http.StatusNotFound {
		return nil, ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("s3 get %s: %w", key, err)
	}
	o := &Object{ReadCloser: out.Body, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType)}
	if out.LastModified != nil {
		o.ModTime = *out.LastModified
	}
	return o, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil && httpStatus(err) != http.StatusNotFound {
		return fmt.Errorf("s3 delete %s: %w", key, err)
	}
	return nil
}

func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix + prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3 list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
		}
	}
	return out, nil
}

func (s *S3) Check(ctx context.Context) error { return check(ctx, s) }

// httpStatus is the HTTP status of an SDK error, or 0.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
